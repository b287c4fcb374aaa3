package activities_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sitrep-dev/sitrep/activities"
	"github.com/sitrep-dev/sitrep/catalog"
)

// A bundle of a storm's fifty incidents fits one SMS (Twilio refuses bodies
// over 1,600 characters): five named, the rest counted; a bundle of one
// reads like a page.
func TestBundleTextFitsOneSMS(t *testing.T) {
	tmpl, err := activities.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	in := activities.BundleInput{Ref: "pager-alice:run:1", Person: "alice", Channel: catalog.SMS}
	for i := range 50 {
		in.Items = append(in.Items, activities.BundleItem{Ref: fmt.Sprintf("inc-checkout-%016x:r", i), IncidentID: fmt.Sprintf("inc-checkout-%016x", i),
			Service: "checkout", Severity: catalog.SEV1, Summary: strings.Repeat("very long summary ", 20)})
	}
	_, text, err := tmpl.Bundle(in, "https://sitrep.example/ack/"+strings.Repeat("t", 120))
	if err != nil {
		t.Fatal(err)
	}
	if len(text) > 1600 || !strings.Contains(text, "- and 45 more") || !strings.Contains(text, "Reply 4 to acknowledge all 50.") {
		t.Fatalf("%d characters:\n%s", len(text), text)
	}
	in.Items = in.Items[:1]
	subject, text, err := tmpl.Bundle(in, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(text, "sitrep SEV1 inc-checkout-0000000000000000: checkout: very long") || !strings.HasSuffix(text, "Reply 4 to acknowledge.") ||
		!strings.HasPrefix(subject, "[SEV1] checkout: very long") {
		t.Fatalf("bundle of one:\n%s\n%s", subject, text)
	}
}
