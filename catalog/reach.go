package catalog

import (
	"fmt"
	"maps"
	"slices"
)

// Reach says how to page one person: the wanted channels they have, in their
// order of preference, and their other channels as fallback. A person with
// none of the wanted channels is reached on their first contact.
func (c *Catalog) Reach(person string, wanted []Channel) (Recipient, error) {
	p, ok := c.People[person]
	if !ok {
		return Recipient{}, fmt.Errorf("unknown person %q", person)
	}
	r := Recipient{Person: person}
	for _, ct := range p.Contacts {
		if slices.Contains(wanted, ct.Channel) && !slices.Contains(r.Channels, ct.Channel) {
			r.Channels = append(r.Channels, ct.Channel)
		}
	}
	for _, ct := range p.Contacts {
		if !slices.Contains(r.Channels, ct.Channel) && !slices.Contains(r.Fallback, ct.Channel) {
			r.Fallback = append(r.Fallback, ct.Channel)
		}
	}
	if len(r.Channels) == 0 && len(r.Fallback) > 0 {
		r.Channels, r.Fallback = r.Fallback[:1], r.Fallback[1:]
	}
	return r, nil
}

// PersonAt returns the handle of the person with address on channel. A
// phone number matches both sms and voice contacts.
func (c *Catalog) PersonAt(ch Channel, address string) (string, bool) {
	phone := ch == SMS || ch == Voice
	for _, h := range slices.Sorted(maps.Keys(c.People)) {
		for _, ct := range c.People[h].Contacts {
			if ct.Address == address && (ct.Channel == ch || phone && (ct.Channel == SMS || ct.Channel == Voice)) {
				return h, true
			}
		}
	}
	return "", false
}
