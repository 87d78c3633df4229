"""Generator of the government-domain sentiment/kind set (sentiment/data/gov_*.csv).

Written for wzmon: every template and slot value below was written by the team; nothing was scraped.
Train and eval are built from DIFFERENT template lists and partly different slot values, so the eval set
measures generalisation to new phrasings, not recall of training sentences; hand-written rows
(data/handwritten_*.csv) are appended to each side. `python -m sentiment.datagen` rewrites both files;
a test checks the committed files equal the generator's output and share no sentence.

Label rules used throughout: negative = the author is dissatisfied, angry, distressed or sarcastic
(including praise followed by a complaint, and rhetorical questions like 为什么没人管？); neutral = a
plain question, request, suggestion or notice; positive = thanks, praise, satisfaction.
Kind: 投诉 complaint, 咨询 question, 求助 asking for help with a personal situation, 建议 suggestion,
表扬 thanks/praise, 其他 anything else. A praise-then-complaint post is 投诉.
"""
from __future__ import annotations

import csv
import random
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
SEED = 20240611

ACCOUNTS_TRAIN = ["@银川公安", "@问政银川", "@银川教育", "@银川市住建局", "@银川交警", "@银川市卫健委", "@兴庆区政府",
                  "@银川城管", "@银川市人社局", "@银川住房公积金", "@银川12345"]
ACCOUNTS_EVAL = ["@问政银川", "@银川公安", "@金凤区发布", "@西夏区政府", "@银川市场监管", "@银川供热办", "@银川教育",
                 "@银川公交", "@银川自然资源局", "@银川医保"]

PLACES_TRAIN = ["兴庆区丽景街", "金凤区万达广场附近", "西夏区怀远路", "北京路与正源街交叉口", "上海西路", "宁安大街",
                "贺兰县德胜工业园", "永宁县杨和镇", "阅海湾商务区", "新华街步行街", "湖滨街", "长城中路",
                "民族北街", "凤凰北街", "唐徕小区", "银新苑", "海宝小区", "丽子园", "锦绣华城", "森林公园北门"]
PLACES_EVAL = ["金凤区亲水大街", "西夏区同心路", "兴庆区清和街", "满城北街", "宝湖路", "正源南街", "艾依水郡",
               "紫檀苑", "朔方路", "黄河东路", "文昌北街", "兴庆区大新镇", "花园巷", "中山南街"]

ISSUES_TRAIN = ["路灯坏了好几个", "下水道堵了，污水流得到处都是", "垃圾堆了好几天没人清运", "广场舞音响开到晚上十一点",
                "工地半夜还在施工，噪音太大", "暖气一点都不热", "又停水了", "小区电梯三天两头坏", "烧烤摊油烟呛得开不了窗",
                "路中间有个大坑", "共享单车把人行道堵死了", "有黑车天天在路口拉客", "商贩占道经营", "有人私搭乱建",
                "物业乱收费", "红绿灯时间太短老人过不去", "井盖丢了一直没补", "楼下餐馆污水直接排到路上",
                "绿化带里的树被人砍了", "小区门口天天有大货车乱停"]
ISSUES_EVAL = ["自来水发黄有异味", "公交站牌被拆了一直没装", "夜里有人飙车轰油门", "楼道里堆满杂物堵住了消防通道",
               "路边的积水好几天都没排掉", "幼儿园门口早高峰堵得水泄不通", "KTV噪音吵到凌晨", "小区供暖温度只有十几度",
               "农贸市场门口污水横流", "人行道的地砖全翘起来了", "停车场乱收费", "施工围挡占了半条路"]

SERVICES_TRAIN = ["公积金提取", "社保卡补办", "户口迁移", "居住证办理", "新生儿落户", "小学入学报名", "驾驶证换证",
                  "不动产登记", "医保异地备案", "失业金申领", "营业执照办理", "身份证补办", "老年优待证办理", "廉租房申请"]
SERVICES_EVAL = ["护照办理", "公租房资格审核", "灵活就业社保缴费", "初中学位申请", "电动自行车上牌", "二手房过户",
                 "生育津贴申领", "港澳通行证续签", "退休手续办理"]

OFFICERS_TRAIN = ["民警", "辅警", "老师", "窗口工作人员", "社区网格员", "城管队员", "交警", "医生", "护士", "环卫工人"]
OFFICERS_EVAL = ["派出所的同志", "社区书记", "办事大厅的小姑娘", "值班民警", "班主任", "急诊科大夫", "维修师傅"]

DEEDS_TRAIN = ["帮我找回了丢失的钱包", "连夜把我走失的父亲送回了家", "耐心地给我讲了半个小时政策", "冒着大雪帮我推车",
               "把我孩子的转学手续一次办好了", "当天就把路灯修好了", "主动上门帮老人办了证"]
DEEDS_EVAL = ["帮我们把堵了一周的下水道疏通了", "下班了还留下来帮我办完了手续", "在雨里指挥交通两个小时",
              "帮迷路的孩子找到了妈妈", "第二天就派人把坑填上了"]

DURATIONS = ["三天", "一个星期", "半个月", "两个多月", "大半年", "一个多月", "五六天", "整整一年"]
TIMES = ["两", "三", "四", "五", "七八", "好几"]


def _t(label: str, kind: str, *templates: str) -> list[tuple[str, str, str]]:
    return [(tpl, label, kind) for tpl in templates]


TEMPLATES_TRAIN = (
    _t("negative", "投诉",
       "{acct} {place}{issue}，{dur}了都没人管",
       "{acct} 投诉：{place}{issue}，严重影响居民生活，请尽快处理",
       "{acct} {place}{issue}，打了几次电话都没人处理，到底有没有人管？",
       "{acct} 为什么{place}{issue}一直没人管？",
       "{acct} 办{svc}跑了{n}趟还没办成，工作人员态度太差了",
       "{place}{issue}，这就是你们的办事效率？{acct}",
       "{acct} 我要举报，{place}{issue}，已经{dur}了",
       "{acct} {place}{issue}，12345打了也没用，石沉大海",
       "{acct} 对{svc}窗口很不满意，一个简单的事推来推去",
       "{acct} 真是好样的，{place}{issue}反映{dur}了，一点动静都没有",
       "感谢{acct}让我为了{svc}跑了{n}趟，真是长见识了",
       "{acct} 之前的{officer}挺负责的，但是这次{place}{issue}，拖了{dur}还没解决",
       "谢谢{acct}的回复，可是问题根本没解决，{place}还是{issue}",
       "{acct} 处理结果一点都不满意，{place}{issue}照旧",
       "呵呵，{acct}又是已读不回，{place}{issue}谁来管",
       "{acct} {place}{issue}，老百姓的事就没人当回事吗？",
       "强烈要求{acct}整治{place}，{issue}，居民苦不堪言"),
    _t("neutral", "咨询",
       "{acct} 请问{svc}需要带什么材料？",
       "{acct} 你好，想咨询一下{svc}在哪里办理",
       "请问{acct}，{svc}可以网上办吗？",
       "{acct} 咨询：{svc}一般需要多长时间？",
       "{acct} 请问{svc}周六上班吗",
       "想问一下{acct}，{svc}的流程是什么",
       "{acct} 您好，{svc}需要本人到场吗？谢谢",
       "{acct} 请问{place}附近有没有可以办{svc}的地方？",
       "{acct} 外地户口在银川能办{svc}吗？",
       "{acct} 请问{place}停水什么时候恢复？"),
    _t("neutral", "求助",
       "{acct} 求助：我家老人今天早上在{place}走失了，穿蓝色外套，请大家帮忙留意",
       "{acct} 求助，孩子的{svc}手续卡住了，不知道该找哪个部门，麻烦帮忙协调一下",
       "{acct} 您好，{place}有位老人摔倒了，能不能派人来看看",
       "{acct} 钱包丢在出租车上了，在{place}下的车，请帮忙找一下",
       "{acct} 求帮助，{place}有只流浪狗被困在下水道里了"),
    _t("negative", "求助",
       "{acct} 救命，{place}有人打架都见血了，快来人啊",
       "{acct} 急死了！孩子在{place}附近走丢了，求求你们帮帮我"),
    _t("neutral", "建议",
       "{acct} 建议在{place}增设一个红绿灯，早晚高峰行人过马路很危险",
       "{acct} 建议{svc}开通网上预约，方便上班族",
       "希望{acct}能在{place}多安排几个公交站点",
       "{acct} 提个建议：{place}的公厕能不能延长开放时间",
       "{acct} 建议{place}多设几个垃圾分类回收点",
       "{acct} 希望{svc}的材料清单能在网上公布出来"),
    _t("positive", "表扬",
       "感谢{acct}的{officer}，{deed}，太暖心了！",
       "给{acct}点赞！{officer}{deed}，效率真高",
       "{acct} 昨天反映的{place}的问题今天就解决了，谢谢你们",
       "为{acct}的{officer}点赞👍",
       "{acct} 谢谢你们，{officer}辛苦了！",
       "{acct} {svc}办得特别顺利，工作人员很耐心，满意",
       "{acct} 没想到这么快就有回复了，问题已经处理好了，感谢"),
    _t("neutral", "其他",
       "转发微博 {acct}",
       "{acct} 关于{svc}的最新通知，大家看一下",
       "#问政银川# {place}今天开始封路施工，请绕行 {acct}",
       "{acct} 收到",
       "{acct} 已私信"),
    _t("positive", "其他",
       "今天{place}的晚霞太美了",
       "周末带孩子去{place}玩，开心"),
    _t("negative", "其他",
       "今天加班到十点，累死了",
       "堵在{place}一个小时了，烦"),
    # Requests, suggestions and complaints that close politely (谢谢/感谢/辛苦了): still not praise.
    _t("neutral", "建议",
       "{acct} 建议{svc}增加周末窗口，上班的人工作日请不了假，谢谢",
       "{acct} 提点意见：{place}的公交班次太少了，能不能加密一下，感谢",
       "{acct} 希望能在{place}装几个电动车充电桩，辛苦了",
       "{acct} 个人觉得{svc}的预约时段可以放宽一点，供参考，谢谢",
       "{acct} 能否在{place}放几张长椅？老人走累了没地方歇脚，感谢考虑",
       "{acct} 为了方便群众，建议{place}的停车场晚上免费开放，谢谢！"),
    _t("neutral", "求助",
       "{acct} 麻烦帮忙问一下，我的{svc}材料交了一个月了还没消息，谢谢",
       "{acct} 家里老人突然住院，急着办{svc}，能不能帮忙加急？万分感谢",
       "{acct} 请帮忙协调一下，{place}{issue}，我们自己联系不上物业，谢谢",
       "{acct} 手机在{place}丢了，里面有重要资料，麻烦帮忙查一下监控，感谢",
       "{acct} 我们几户人家{place}{issue}，不知道找谁，求帮忙，先谢谢了"),
    _t("negative", "投诉",
       "{acct} {place}{issue}，{dur}了，请尽快处理，谢谢",
       "{acct} 反映个问题：{place}{issue}，希望有关部门管一管，谢谢",
       "{acct} 麻烦管一管{place}，{issue}，居民意见很大，辛苦了",
       "{acct} {place}{issue}，已经不是第一次了，请相关部门重视，感谢",
       "{acct} 实名投诉{place}，{issue}，望尽快处理，谢谢"),
    _t("neutral", "咨询",
       "{acct} 请问{svc}现在能在手机上预约吗？谢谢",
       "{acct} 想了解一下{svc}的办理条件，麻烦告知，感谢",
       "{acct} 您好，{svc}的进度在哪里可以查到？辛苦回复一下",
       "{acct} {place}{issue}，这种事该打哪个电话？谢谢"),
    _t("positive", "表扬",
       "{acct} 上次反映的{place}的问题已经处理好了，感谢你们的高效",
       "{acct} 点赞{officer}，{deed}，谢谢！",
       "{acct} 今天去办{svc}特别快，{officer}服务很周到，感谢"),
)

TEMPLATES_EVAL = (
    _t("negative", "投诉",
       "{acct} {place}{issue}，反映多少次了，有用吗？",
       "真是服了，{place}{issue}，{acct}你们能不能管一管",
       "{acct} 我就想问问{place}{issue}到底归谁管？踢皮球踢了{dur}",
       "{acct} 对{svc}的服务非常失望，排队{dur}，结果说材料不全",
       "{place}{issue}，{acct}根本不作为",
       "{acct} 效率真高啊，{dur}了{place}还是{issue}",
       "太感谢{acct}了，一个{svc}让我跑了{n}趟",
       "{acct} 平时服务还算不错，不过这回{place}{issue}，让人太失望了",
       "表扬归表扬，{acct}，{place}{issue}的事你们到底什么时候处理？",
       "{acct} 回复说已处理，实际上{place}{issue}，糊弄谁呢"),
    _t("neutral", "咨询",
       "{acct} 打扰一下，{svc}要去哪个窗口？",
       "{svc}现在是不是可以在手机上办了？{acct}",
       "{acct} 麻烦问下，{svc}要交费吗，大概多少钱",
       "{acct} {svc}的办理时间是几点到几点呀",
       "求问{acct}：没有房产证能不能申请{svc}？"),
    _t("neutral", "求助",
       "{acct} 急寻：{place}附近丢了一个黑色书包，里面有证件，捡到的请联系我",
       "{acct} 能不能帮忙联系一下{place}的社区，我母亲一个人在家电话联系不上",
       "麻烦{acct}帮个忙，{place}有辆车堵住了消防通道，车主电话打不通"),
    _t("neutral", "建议",
       "{acct} 可否考虑在{place}设置非机动车道",
       "我觉得{svc}可以再简化一下材料，{acct}参考一下",
       "{acct} 有个小建议，{place}晚上可以多开几盏路灯"),
    _t("positive", "表扬",
       "{acct} 必须表扬一下{officer}，{deed}，服务态度特别好",
       "上周在{acct}留言说{place}{issue}，没想到第二天就有人来处理了，真心感谢",
       "{acct} 办事太顺利了，不到半小时就办完了{svc}，好评",
       "{officer}辛苦了！向{acct}致敬",
       "{acct} 今天去办{svc}，{officer}一点都不敷衍，很专业"),
    _t("neutral", "其他",
       "{acct} 关注一下",
       "{place}今天有马拉松比赛，交通管制到中午 {acct}"),
)

HANDWRITTEN = {"train": DATA_DIR / "handwritten_train.csv", "eval": DATA_DIR / "handwritten_eval.csv"}
PER_TEMPLATE = {"train": 14, "eval": 9}


def _fill(tpl: str, rng: random.Random, split: str) -> str:
    tr = split == "train"
    slots = {
        "acct": rng.choice(ACCOUNTS_TRAIN if tr else ACCOUNTS_EVAL),
        "place": rng.choice(PLACES_TRAIN if tr else PLACES_EVAL),
        "issue": rng.choice(ISSUES_TRAIN if tr else ISSUES_EVAL),
        "svc": rng.choice(SERVICES_TRAIN if tr else SERVICES_EVAL),
        "officer": rng.choice(OFFICERS_TRAIN if tr else OFFICERS_EVAL),
        "deed": rng.choice(DEEDS_TRAIN if tr else DEEDS_EVAL),
        "dur": rng.choice(DURATIONS),
        "n": rng.choice(TIMES),
    }
    return tpl.format(**slots)


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [dict(r) for r in csv.DictReader(fh)]


def generate(split: str) -> list[dict[str, str]]:
    rng = random.Random(f"{SEED}:{split}")
    templates = TEMPLATES_TRAIN if split == "train" else TEMPLATES_EVAL
    seen: set[str] = set()
    out: list[dict[str, str]] = []
    for group in templates:
        for tpl, label, kind in group:
            made = 0
            for _ in range(PER_TEMPLATE[split] * 8):
                if made >= PER_TEMPLATE[split]:
                    break
                text = _fill(tpl, rng, split)
                if text in seen:
                    continue
                seen.add(text)
                out.append({"text": text, "label": label, "kind": kind, "source": f"template-{split}"})
                made += 1
    for row in read_rows(HANDWRITTEN[split]):
        if row["text"] not in seen:
            seen.add(row["text"])
            out.append({"text": row["text"], "label": row["label"], "kind": row["kind"], "source": "handwritten"})
    return out


def write(split: str, path: Path | None = None) -> Path:
    path = path or DATA_DIR / f"gov_{split}.csv"
    rows = generate(split)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["text", "label", "kind", "source"], lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return path


if __name__ == "__main__":
    for s in ("train", "eval"):
        print(write(s))
