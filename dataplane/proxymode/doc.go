// Package proxymode implements dataplane.Proxier for each of kube-proxy's
// modes: IPTables, NFTables and IPVS. Each turns its mode package's own
// model (rules, maps, virtual servers) into the shared vocabulary: walks,
// diffs with their locators, and listings whose lines carry their kind and
// place, so that nothing downstream reads meaning out of text.
package proxymode
