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

// Levels lists the levels from lowest to highest.
var Levels = []string{LevelStandard, LevelGold, LevelPlatinum, LevelDiamond, LevelPrivate}

// levelFloors are the AUM floors in fen of each level above standard, the
// common tiering of Chinese retail banks (¥50k gold, ¥500k platinum, ¥2m
// diamond, ¥6m private banking). The configurable, versioned rule of the
// customer-360 issue replaces this default.
var levelFloors = []struct {
	level string
	floor int64
}{
	{LevelPrivate, 6_000_000_00},
	{LevelDiamond, 2_000_000_00},
	{LevelPlatinum, 500_000_00},
	{LevelGold, 50_000_00},
}

// LevelFor returns the level earned by an AUM in fen.
func LevelFor(aum int64) string {
	for _, l := range levelFloors {
		if aum >= l.floor {
			return l.level
		}
	}
	return LevelStandard
}
