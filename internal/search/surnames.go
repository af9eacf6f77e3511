package search

import "strings"

// Readings the dictionary's most common one gets wrong in names, used for
// the initials (NameKey) and the full pinyin (NamePinyin).

// compoundSurnames read differently together than their first character
// alone: 尉 is wèi as a surname but 尉迟 is yùchí.
var compoundSurnames = map[string][]string{
	"尉迟": {"yu", "chi"},
	"万俟": {"mo", "qi"},
	"单于": {"chan", "yu"},
	"澹台": {"tan", "tai"},
	"乐正": {"yue", "zheng"},
	"长孙": {"zhang", "sun"},
	"长桑": {"chang", "sang"},
}

// surnames are the surname readings of characters whose common reading has
// another initial: 单 is dān in 单位 but Shàn as a surname.
var surnames = map[rune]string{
	'单': "shan", '曾': "zeng", '仇': "qiu", '解': "xie", '区': "ou", '查': "zha", '覃': "qin", '翟': "zhai",
	'召': "shao", '种': "chong", '员': "yun", '隗': "wei", '句': "gou", '长': "chang", '重': "chong", '折': "she",
	'繁': "po", '藏': "zang", '祭': "zhai", '谌': "chen", '莘': "shen", '都': "du", '秘': "bi", '车': "che",
	'沈': "shen", '尉': "wei", '能': "nai", '蕃': "pi", '贲': "ben", '厍': "she", '阿': "a", '石': "shi",
	'柏': "bai", '薄': "bo", '缪': "miao", '宿': "su", '盛': "sheng", '乐': "le", '纪': "ji", '任': "ren",
	'朴': "piao", '盖': "ge",
}

// phrases are words inside names, mostly places that open company names,
// that the character-by-character reading gets wrong.
var phrases = map[string][]string{
	"重庆": {"chong", "qing"}, "长沙": {"chang", "sha"}, "长春": {"chang", "chun"}, "长治": {"chang", "zhi"},
	"长安": {"chang", "an"}, "长江": {"chang", "jiang"}, "长城": {"chang", "cheng"}, "长兴": {"chang", "xing"},
	"长宁": {"chang", "ning"}, "长乐": {"chang", "le"}, "长青": {"chang", "qing"}, "长生": {"chang", "sheng"},
	"厦门": {"xia", "men"}, "番禺": {"pan", "yu"}, "乐清": {"yue", "qing"}, "东莞": {"dong", "guan"},
	"银行": {"yin", "hang"}, "分行": {"fen", "hang"}, "支行": {"zhi", "hang"}, "总行": {"zong", "hang"},
	"商行": {"shang", "hang"}, "车行": {"che", "hang"}, "行业": {"hang", "ye"}, "蚌埠": {"beng", "bu"},
	"莘县": {"shen", "xian"}, "单县": {"shan", "xian"}, "曾都": {"zeng", "du"}, "朝阳": {"chao", "yang"},
}

// surnameReadings returns the readings of the surname that opens name and
// its length in bytes, or 0 when the name opens with a character read as
// usual.
func surnameReadings(name string) ([]string, int) {
	for s, readings := range compoundSurnames {
		if strings.HasPrefix(name, s) {
			return readings, len(s)
		}
	}
	if _, n := phraseReadings(name); n > 0 {
		return nil, 0 // a company opening with a place name
	}
	for _, r := range name {
		if reading, ok := surnames[r]; ok {
			return []string{reading}, len(string(r))
		}
		return nil, 0
	}
	return nil, 0
}

// phraseReadings returns the readings of the phrase that opens s and its
// length in bytes, or 0 when none does.
func phraseReadings(s string) ([]string, int) {
	if len(s) < 6 { // two CJK characters of three bytes
		return nil, 0
	}
	if readings, ok := phrases[s[:6]]; ok {
		return readings, 6
	}
	return nil, 0
}
