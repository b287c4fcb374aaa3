package starter

import (
	"context"
	"sync/atomic"

	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
)

// startedKey carries, in the context of one SignalWithStart, where to note
// whether the server started a new run.
type startedKey struct{}

type startedProbe struct{ seen, started bool }

// StartedInterceptor is a gRPC client interceptor that lets Alert tell an
// alert that opened an incident from one that folded into it: the server
// says so in its answer to SignalWithStart, which the SDK does not pass on.
// Dial the clients the starter uses with grpc.WithChainUnaryInterceptor
// (StartedInterceptor); without it Alert asks the server which run was open
// before each alert, a read more.
func StartedInterceptor(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	err := invoker(ctx, method, req, reply, cc, opts...)
	if p, ok := ctx.Value(startedKey{}).(*startedProbe); ok && err == nil {
		if r, ok := reply.(*workflowservice.SignalWithStartWorkflowExecutionResponse); ok {
			p.seen, p.started = true, r.GetStarted()
		}
	}
	return err
}

// probed is set once a SignalWithStart's answer came through the interceptor.
type probed struct{ atomic.Bool }
