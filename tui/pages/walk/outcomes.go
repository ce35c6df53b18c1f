package walk

import (
	"fmt"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/internal/textfmt"
	"github.com/svctrace/kubectl-svctrace/tui/common"
)

// bad reports whether an outcome means broken traffic: a packet dropped,
// rejected or left untranslated, or sent to an address that is not an
// endpoint of the Service.
func bad(o dataplane.Outcome) bool { return o.Verdict != dataplane.VerdictDNAT || o.NotEndpoint }

func verdictLabel(o dataplane.Outcome) string {
	if o.Target != "" {
		return string(o.Verdict) + " " + o.Target
	}
	return string(o.Verdict)
}

// outcomes lists each verdict, numbered as its branch in the steps, with
// its share and the chain path that decided it.
func (p *Page) outcomes(w dataplane.Walk) []string {
	var lines []string
	for i, o := range w.Outcomes {
		mark, style := p.Styles.OK.Render("✔"), p.Styles.Bold
		if bad(o) {
			mark, style = p.Styles.Bad.Render("✘"), p.Styles.Bad
		}
		head := fmt.Sprintf("%s %s %s %6s", mark, style.Render(fmt.Sprintf("%-28s", verdictLabel(o))),
			p.Styles.Bar.Render(textfmt.Bar(o.Probability, 20)), textfmt.Percent(o.Probability))
		if o.Masquerade {
			head += "  masquerade"
		}
		lines = append(lines, "", common.Truncate(fmt.Sprintf("%2d ", i+1)+head, p.Width))
		if o.NotEndpoint {
			lines = append(lines, common.Truncate("     "+p.Styles.Bad.Render("not an endpoint of the Service"), p.Width))
		}
		// Path is the chain path that decided the verdict, as the text
		// output prints it; Chains (every chain met) is the fallback.
		via := o.Path
		if via == "" {
			via = strings.Join(o.Chains, " → ")
		}
		for _, l := range textfmt.Wrap("via "+via, p.Width-5) {
			lines = append(lines, "     "+p.Styles.Dim.Render(l))
		}
		if o.Note != "" {
			lines = append(lines, common.Truncate("     "+p.Styles.Info.Render(o.Note), p.Width))
		}
	}
	return lines
}
