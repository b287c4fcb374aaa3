# sitrep: one image for `sitrep worker` and `sitrep serve`.
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/sitrep ./cmd/sitrep

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 sitrep
COPY --from=build /out/sitrep /usr/local/bin/sitrep
COPY examples/catalog.yaml /etc/sitrep/catalog.yaml
USER sitrep
ENV SITREP_CATALOG=/etc/sitrep/catalog.yaml
ENTRYPOINT ["/usr/local/bin/sitrep"]
CMD ["worker"]
