// Command sitrep runs the communication side of production incidents as
// durable Temporal workflows. See README.md.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], newDeps()))
}
