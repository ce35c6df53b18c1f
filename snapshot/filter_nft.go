package snapshot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// nftOwned matches kube-proxy's per-Service nftables objects, e.g.
// "service-ULMVA6XW-ns1/svc1/tcp/p80" or "endpoint-…-ns1/svc1/tcp/p80__10.0.0.1/80".
var nftOwned = regexp.MustCompile(`^(?:service|external|firewall|endpoint|affinity)-[A-Z0-9]+-([^/]+)/([^/]+)/`)

// nftOwner returns "ns/name" for a per-Service object name, or "".
func nftOwner(name string) string {
	m := nftOwned.FindStringSubmatch(name)
	if m == nil {
		return ""
	}
	return m[1] + "/" + m[2]
}

// FilterNFT keeps the objects of `nft -j list ruleset` output that concern
// f's Service: shared chains, sets and maps, with the rules and elements
// that point at another Service's chains (or name it in a comment) left
// out, the Service's own chains and sets, and, in the cluster-ips set,
// only the Service's addresses. Everything outside kube-proxy's objects is
// kept.
func FilterNFT(js string, f *Filter) (string, error) {
	var doc map[string][]map[string]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(js))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return "", fmt.Errorf("filter nft ruleset: %w", err)
	}
	items, ok := doc["nftables"]
	if !ok {
		return "", fmt.Errorf("filter nft ruleset: no \"nftables\" array")
	}
	out := items[:0]
	for _, it := range items {
		keep, repl, err := filterNFTItem(it, f)
		if err != nil {
			return "", err
		}
		if keep {
			if repl != nil {
				it = repl
			}
			out = append(out, it)
		}
	}
	doc["nftables"] = out
	b, err := json.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("filter nft ruleset: %w", err)
	}
	return string(b) + "\n", nil
}

// filterNFTItem decides for one {"kind": {...}} object; repl, when set,
// replaces it (a set or map with elements left out).
func filterNFTItem(it map[string]json.RawMessage, f *Filter) (keep bool, repl map[string]json.RawMessage, err error) {
	for kind, raw := range it {
		var head struct {
			Name  string `json:"name"`
			Chain string `json:"chain"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			return false, nil, fmt.Errorf("filter nft ruleset: %s object: %w", kind, err)
		}
		switch kind {
		case "chain", "set", "map":
			if o := nftOwner(head.Name); o != "" {
				return o == f.Service, nil, nil
			}
			if kind == "chain" {
				return true, nil, nil
			}
			obj, err := filterElems(raw, head.Name, f)
			if err != nil {
				return false, nil, err
			}
			return true, map[string]json.RawMessage{kind: obj}, nil
		case "rule":
			if o := nftOwner(head.Chain); o != "" {
				return o == f.Service, nil, nil
			}
			return !mentionsOther(raw, f.Service), nil, nil
		}
	}
	return true, nil, nil
}

// filterElems leaves out the elements of a shared set or map that belong to
// another Service.
func filterElems(raw json.RawMessage, name string, f *Filter) (json.RawMessage, error) {
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil {
		return nil, fmt.Errorf("filter nft ruleset: set %s: %w", name, err)
	}
	elems, ok := obj["elem"].([]any)
	if !ok {
		return raw, nil
	}
	var kept []any
	for _, e := range elems {
		if keepElem(e, name, f) {
			kept = append(kept, e)
		}
	}
	if kept == nil {
		delete(obj, "elem")
	} else {
		obj["elem"] = kept
	}
	return json.Marshal(obj)
}

func keepElem(e any, set string, f *Filter) bool {
	b, err := json.Marshal(e)
	if err != nil {
		return true
	}
	if mentionsOther(b, f.Service) {
		return false
	}
	if mentions(b, f.Service) {
		return true
	}
	if set != "cluster-ips" {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(string(b), `"`))
	return err != nil || f.hasAddr(ip)
}

// stringsIn lists every JSON string in raw.
func stringsIn(raw []byte) []string {
	var out []string
	dec := json.NewDecoder(bytes.NewReader(raw))
	for {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		if s, ok := tok.(string); ok {
			out = append(out, s)
		}
	}
}

// mentionsOther reports whether raw names another Service: a per-Service
// object as jump target or a comment starting with its name.
func mentionsOther(raw []byte, svc string) bool {
	for _, s := range stringsIn(raw) {
		if o := nftOwner(s); o != "" && o != svc {
			return true
		}
		if o := commentService(s); o != "" && o != svc {
			return true
		}
	}
	return false
}

func mentions(raw []byte, svc string) bool {
	for _, s := range stringsIn(raw) {
		if nftOwner(s) == svc || commentService(s) == svc {
			return true
		}
	}
	return false
}
