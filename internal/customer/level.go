package customer

// Customer levels, lowest first. The labels shown to users come from the
// message catalogues (普通 / 金卡 / 白金 / 钻石 / 私行).
const (
	LevelStandard = "standard"
	LevelGold     = "gold"
	LevelPlatinum = "platinum"
	LevelDiamond  = "diamond"
	LevelPrivate  = "private"
)

// Levels lists the levels from lowest to highest. A customer's level is
// computed by the level engine (internal/level) from AUM, transaction
// frequency and contribution under the active, versioned rule; a new
// customer starts at standard until the engine evaluates them.
var Levels = []string{LevelStandard, LevelGold, LevelPlatinum, LevelDiamond, LevelPrivate}
