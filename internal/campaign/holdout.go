package campaign

import "kehu/internal/lift"

// InControl reports whether customer id is held out of a campaign with
// seed and a control group of pct percent: lift.InControl, a fixed function
// of (seed, id), so a resumed launch, a second run of a recurring campaign
// and the results all put the customer in the same group; each campaign's
// seed draws its own group.
func InControl(seed int64, id int64, pct int) bool { return lift.InControl(seed, id, pct) }
