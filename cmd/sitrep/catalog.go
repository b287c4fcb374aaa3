package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sitrep-dev/sitrep/catalog"
)

func newCmdCatalog(d *Deps) *cobra.Command {
	cmd := &cobra.Command{Use: "catalog", Short: "Work with the on-call catalog"}
	cmd.AddCommand(&cobra.Command{
		Use:   "validate FILE|DIR",
		Short: "Check a catalog and list every mistake with its file and line",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("want one catalog file or directory")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := catalog.Load(args[0])
			if err != nil {
				return &usageError{err.Error()}
			}
			fmt.Fprintf(d.Out, "%s: ok: %d people, %d rotations, %d teams, %d services, %d escalation policies\n",
				args[0], len(c.People), len(c.Rotations), len(c.Teams), len(c.Services), len(c.Policies))
			return nil
		},
	})
	return cmd
}
