package demo

import "strings"

// surnames are common Chinese family names with their approximate share of
// the population in per mille (from the 2020 census rankings), so a demo
// list looks like a real branch's customer list: many 李, 王, 张, few 诸葛.
var surnames = []struct {
	name   string
	weight float64
}{
	{"李", 74}, {"王", 72}, {"张", 68}, {"刘", 54}, {"陈", 45}, {"杨", 31}, {"黄", 22}, {"赵", 20}, {"吴", 20},
	{"周", 19}, {"徐", 15}, {"孙", 14}, {"马", 13}, {"朱", 13}, {"胡", 12}, {"郭", 11}, {"何", 11}, {"林", 10},
	{"罗", 9}, {"高", 9}, {"郑", 8}, {"梁", 8}, {"谢", 7}, {"宋", 6}, {"唐", 6}, {"许", 6}, {"韩", 6}, {"冯", 5},
	{"邓", 5}, {"曹", 5}, {"彭", 5}, {"曾", 5}, {"肖", 5}, {"田", 4}, {"董", 4}, {"袁", 4}, {"潘", 4}, {"于", 4},
	{"蒋", 4}, {"蔡", 4}, {"余", 4}, {"杜", 4}, {"叶", 4}, {"程", 3}, {"苏", 3}, {"魏", 3}, {"吕", 3}, {"丁", 3},
	{"任", 3}, {"沈", 3}, {"姚", 3}, {"卢", 3}, {"姜", 3}, {"崔", 3}, {"钟", 3}, {"谭", 3}, {"陆", 2}, {"汪", 2},
	{"范", 2}, {"金", 2}, {"石", 2}, {"廖", 2}, {"贾", 2}, {"夏", 2}, {"韦", 2}, {"付", 2}, {"方", 2}, {"白", 2},
	{"邹", 2}, {"孟", 2}, {"熊", 2}, {"秦", 2}, {"邱", 2}, {"江", 2}, {"尹", 2}, {"薛", 2}, {"闫", 2}, {"段", 2},
	{"雷", 2}, {"侯", 2}, {"龙", 2}, {"史", 2}, {"陶", 1}, {"黎", 1}, {"贺", 1}, {"顾", 1}, {"毛", 1}, {"郝", 1},
	{"龚", 1}, {"邵", 1}, {"万", 1}, {"钱", 1}, {"严", 1}, {"覃", 1}, {"武", 1}, {"戴", 1}, {"莫", 1}, {"孔", 1},
	{"向", 1}, {"汤", 1}, {"欧阳", 0.4}, {"上官", 0.05}, {"司马", 0.05}, {"诸葛", 0.05},
}

// givenMale and givenFemale are characters common in given names; a given
// name is one or two of them.
var (
	givenMale   = strings.Split("伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林峰建国志文海东亮成晨博轩睿泽宏思天阳昊然嘉诚皓瑞锐毅立新永春", "")
	givenFemale = strings.Split("芳娜敏静丽艳娟霞秀玲燕婷雪琳慧莹倩晶洁颖佳欣怡萱梓涵雨琪悦瑶诗梦思嘉可馨彤蕾璐薇月露红梅兰英华萍丹", "")
)

var surnameTable = func() weighted {
	w := make([]float64, len(surnames))
	for i, s := range surnames {
		w[i] = s.weight
	}
	return newWeighted(w)
}()

// personName draws a Chinese full name for the given sex.
func personName(r *rng, male bool) string {
	given := givenFemale
	if male {
		given = givenMale
	}
	name := surnames[surnameTable.pick(r.Float64())].name + pickString(r, given)
	if r.chance(0.72) {
		name += pickString(r, given)
	}
	return name
}

// roads are street names found in most Chinese cities.
var roads = strings.Fields("人民路 中山路 解放路 建设路 新华路 文化路 和平路 胜利路 长江路 黄河路 延安路 青年路 光明路 " +
	"幸福路 朝阳路 工业路 学府路 科技路 滨江路 湖滨路 东风路 环城路 迎宾路 振兴路 民主路 友谊路 公园路 育才路 金融街 商业街")

// estates are residential compound names.
var estates = strings.Fields("阳光花园 金色家园 翠苑小区 锦绣华庭 东方名苑 世纪新城 绿城桂花园 万科城 碧桂园 龙湖春江郦城 " +
	"保利香槟国际 华润橡树湾 融创玖樟台 中海寰宇天下 富力城 和平里小区 幸福家园 学府雅苑 滨江花园 香樟苑")

// companyBrands are characters used in company trade names.
var companyBrands = strings.Split("恒信华达宏源盛泰隆兴鑫海天创联瑞博通宇中金新东方汇祥安和丰润晟嘉远诚德正永同星辰锦", "")

// industries are GB/T 4754 sections with business words that fit them.
var industries = []struct {
	name  string
	words []string
}{
	{"制造业", strings.Fields("机械制造 电子科技 精密仪器 纺织 新材料 汽车零部件 食品")},
	{"批发和零售业", strings.Fields("贸易 商贸 供应链管理 百货 进出口")},
	{"信息传输、软件和信息技术服务业", strings.Fields("网络科技 信息技术 软件 数据科技 智能科技")},
	{"建筑业", strings.Fields("建设工程 建筑安装 装饰工程 市政工程")},
	{"住宿和餐饮业", strings.Fields("餐饮管理 酒店管理 食品连锁")},
	{"交通运输、仓储和邮政业", strings.Fields("物流 运输 货运代理 仓储")},
	{"房地产业", strings.Fields("置业 房地产开发 物业管理")},
	{"租赁和商务服务业", strings.Fields("企业管理咨询 广告传媒 人力资源 会展服务")},
	{"科学研究和技术服务业", strings.Fields("生物科技 检测技术 环保科技 医药科技")},
	{"农、林、牧、渔业", strings.Fields("农业开发 生态农业 水产养殖")},
}

// companyName builds a company name: city, trade name, business, form.
func companyName(r *rng, city string, industry int) string {
	form := "有限公司"
	switch u := r.Float64(); {
	case u < 0.08:
		form = "股份有限公司"
	case u < 0.12:
		form = "有限责任公司"
	}
	return city + pickString(r, companyBrands) + pickString(r, companyBrands) +
		pickString(r, industries[industry].words) + form
}

// merchants receive card spends; the weights favour everyday spending.
var merchants = strings.Fields("美团外卖 饿了么 京东商城 淘宝 拼多多 盒马鲜生 永辉超市 沃尔玛 中国石化加油站 中国石油加油站 " +
	"星巴克 瑞幸咖啡 肯德基 麦当劳 滴滴出行 中国铁路12306 携程旅行 屈臣氏 优衣库 苏宁易购 万达影城 海底捞 喜茶 " +
	"华润万家 物美超市 大润发 全家便利店 罗森 名创优品 同仁堂药店 老百姓大药房 迪卡侬 宜家家居 小米之家 Apple Store")

// utilities are the payees of household bills.
var utilities = strings.Fields("国家电网 中国移动 中国联通 中国电信 水务集团 燃气公司 物业服务中心")

// largeInflows explain occasional large credits.
var largeInflows = strings.Fields("房屋出售款 理财产品到期 证券转银行 拆迁补偿款 继承款 经营收入 年终奖金")

// devices of app logins.
var devices = strings.Fields("iOS Android HarmonyOS")

// appPages are pages of the mobile banking app.
var appPages = strings.Fields("/home /account /transfer /wealth /fund /insurance /loan /credit-card /bill /profile")

// callReasons are reasons for calling the contact centre.
var callReasons = strings.Fields("挂失 查询余额 理财咨询 投诉 信用卡分期 密码重置 转账限额 账单查询")

// branchServices are reasons for a branch visit.
var branchServices = strings.Fields("开户 存取款 理财购买 大额取现 密码重置 证件更新 咨询")
