"""How plausible a decoded text is: as Chinese (frequent hanzi, CJK punctuation) or as Western words.

flows/text_encoding.py scores each candidate reading of a legacy export with these; the weights run
from 1 (what real customer data is made of) to -1 (what no right reading gives: private-use, unassigned).
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

# The most frequent characters of Chinese text: the head of the general frequency list, then the
# surnames, given names and the company, address and CRM words of customer data. The traditional
# forms are OpenCC's conversions (s2t, s2tw, s2hk) of those simplified ones that differ.
_FREQUENT_SIMPLIFIED = (
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里"
    "用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实"
    "日军者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重并物手应战向头文体政"
    "美相见被利什二等产或新己制身果加西斯月话合回特代内信表化老给世位次度门任常先海通教儿原东声提立及比员"
    "解水名真论处走义各入几口认条平系气题活尔更别打女变四神总何电数安少报才结反受目太量再感建务做接必场件"
    "计管期市直德资命山金指克许统区保至队形社便空决治展马科司五基眼书非则听白却界达光放强即像难且权思王象"
    "完设式色路记南品住告类求据程北边死张该交规万取拉格望觉术领共确传师观清今切院让识候带导争运笑飞风步改"
    "收根干造言联持组每济车亲极林服快办议往元英士证近失转夫令准布始怎呢存未远叫台单影具罗字爱击流备兵连调"
    "深商算质团集百需价花党华城石级整府离况亚请技际约示复病息究线似官火断精满支视消越器容照须九增研写称企"
    "八功吗包片史委乎查轻易早曾除农找装广显吧阿李标谈吃图念六引历首医局突专费号尽另周较注语仅考落青随选列"
    "武红响虽推势参希古众构房半节土投某案黑维革划敌致陈律足态护七兴派孩验责营星够章音跟志底站严巴例防族供"
    "效续施留讲型料终答紧黄绝奇察母京段依批群项故按河米围江织害斗双境客纪采举杀攻父苏密低朝友诉止细愿千值"
    "仍男钱破网热助倒育属坐帝限船脸职速刻乐否刚威毛状率甚独球般普怕弹校苦创假久错承印晚兰试股拿脑预谁益阳"
    "若哪微尼继送急血惊伤素药适波夜省初喜卫源食险待述陆习置居劳财环排福纳欢雷警获模充负云停木游龙树疑层冷"
    "洲冲射略范竟句室异激汉村哈策演简卡罪判担州静退既衣您宗积余痛检差富灵协角占配征修皮挥胜降阶审沉坚善妈"
    "刘读啊超免压银买皇养伊怀执副乱抗犯追帮宣佛岁航优怪香著田铁控税左右份穿艺背阵草脚概恶块顿敢守酒岛托央"
    "户烈洋哥索胡款靠评版宝座释景顾弟登货互付伯慢欧换闻危忙核暗姐介坏讨丽良序升监临亮露永呼味野架域沙掉括"
    "舰鱼杂误湾吉减编楚肯测败屋跑梦散温困剑渐封救贵枪缺楼县尚毫移娘朋画班智亦耳恩短掌恐遗固席松秘谢鲁遇康"
    "虑幸均销钟诗藏赶剧票损忽巨炮旧端探湖录叶春乡附吸予礼港雨呀板庭妇归睛饭额含顺输摇招婚脱补谓督毒油疗旅"
    "泽材灭逐莫笔亡鲜词圣择寻厂睡博勒烟授诺伦岸奥唐卖俄炸载洛健堂旁宫喝借君禁阴园谋宋避抓荣姑孙逃牙束跳顶"
    "玉镇雪午练迫爷篇肉嘴馆遍凡础洞卷坦牛宁纸诸训私庄祖丝翻暴森塔默握戏隐熟骨访弱蒙歌店鬼软典欲萨伙遭盘爸"
    "扩盖弄雄稳忘亿刺拥徒姆杨齐赛趣曲刀床迎冰虚玩析窗醒妻透购替塞努休虎扬途侵刑绿兄迅套贸毕唯谷轮库迹尤竞"
    "街促延震弃甲伟麻川申缓潜闪售灯针哲络抵朱埃抱鼓植纯夏忍页杰筑折郑贝尊吴秀混臣雅振染盛怒舞圆搞狂措姓残"
    "秋培迷诚宽宇猛摆梅毁伸摩盟末乃悲拍丁赵尺硬徐郭梁韩冯邓曹彭肖董袁潘蒋蔡杜魏吕沈姚卢姜崔谭汪廖贾韦邹孟"
    "熊秦邱尹薛闫侯陶黎贺郝龚邵覃戴孔汤芳娜敏磊勇艳娟涛霞桂萍娥玲芬燕鹏辉斌浩凯俊峰庆丹婷琳慧颖倩晶欣怡佳"
    "鑫淑珍械咨询汽饰媒餐饮仪塑胶纺刷栋厦巷幢津圳杭肥锡莞滨昆绍嘉浙徽辽陕甘肃疆邮箱址订账触扣"
)
_FREQUENT_TRADITIONAL = (
    "這個們來國說時會對於過發後種經麼學現當沒動還進樣開從實軍無與長機關點業將兩間問並應戰頭體見產話內給門"
    "兒東聲員論處義幾認條氣題爾別變總電數報結務場計資許統區隊決馬書則聽卻達強難權設記類據邊張該規萬覺術領"
    "確傳師觀讓識帶導爭運飛風幹聯組濟車親極辦議證轉準遠臺單羅愛擊備連調質團價黨華級離況亞請際約復線斷滿視"
    "須寫稱嗎輕農裝廣顯標談喫圖歷醫專費號盡較語僅隨選紅響雖勢參構節維劃敵陳態護興驗責營夠嚴續講終緊黃絕項"
    "圍織鬥雙紀採舉殺蘇訴細願錢網熱屬臉職樂剛狀獨彈創錯蘭試腦預誰陽繼驚傷藥適衛險陸習勞財環納歡獲負雲遊龍"
    "樹層衝範異漢簡擔靜積餘檢靈協佔徵揮勝階審堅媽劉讀壓銀買養懷執亂幫歲優鐵稅藝陣腳惡塊頓島託戶評寶釋顧貨"
    "歐換聞壞討麗監臨艦魚雜誤灣減編測敗夢溫劍漸貴槍樓縣畫遺祕謝魯慮銷鍾詩趕劇損舊錄葉鄉禮婦歸飯額順輸搖脫"
    "補謂療澤滅筆鮮詞聖擇尋廠煙諾倫奧賣載宮陰園謀榮孫頂鎮練爺館礎寧紙諸訓莊絲戲隱訪軟薩夥盤擴蓋穩億擁楊齊"
    "賽虛購揚綠貿畢輪庫跡競棄偉緩潛閃燈針絡純頁傑築鄭貝吳圓殘誠寬擺毀趙韓馮鄧蔣呂盧譚賈韋鄒閆賀龔湯豔濤鵬"
    "輝凱慶穎諮詢飾飲儀膠紡棟廈錫濱紹遼陝肅郵訂賬觸為裡眾"
)
_FREQUENT_HANZI = frozenset(_FREQUENT_SIMPLIFIED + _FREQUENT_TRADITIONAL)
# Punctuation and symbols of Chinese text, with the full-width punctuation (￥ ， （ ）).
_CJK_PUNCTUATION = frozenset(
    "、。〃々〈〉《》「」『』【】〔〕〖〗〝〞・·—…‘’“”～¥℃№※→←↑↓☆★○●◎◇◆□■△▲\u3000"
    + "".join(chr(code) for code in range(0xFF01, 0xFF5F) if not chr(code).isalnum())
    + "".join(map(chr, range(0xFFE0, 0xFFE7)))
)
# Real in Chinese data but also what the other CJK codec makes of symbols (GB18030's € is Big5's Ｕ):
# pinyin with tone marks, full-width letters and digits, ① ⑴ ⒈ Ⅷ ㈠.
_CJK_SIGNS = frozenset(
    list("āáǎàēéěèêīíǐìōóǒòūúǔùǖǘǚǜüńňḿ")
    + [chr(code) for code in range(0xFF10, 0xFF5B) if chr(code).isalnum()]
    + [
        chr(code)
        for first, last in ((0x2150, 0x218F), (0x2460, 0x24FF), (0x3220, 0x3243))
        for code in range(first, last + 1)
    ]
)
# Symbols that Western text carries outside words.
_WESTERN_SYMBOLS = frozenset("\xa0€£¥©®°±§«»‘’‚“”„–—…•·²³µ¼½¾×÷¢™¿¡")
_HANZI_LEVELS = (
    ("gb2312", (0xB0A1, 0xD7F9), (0xD8A1, 0xF7FE)),
    ("big5", (0xA440, 0xC67E), (0xC940, 0xF9D5)),
)
# What a GB18030 reading of Big5 bytes (or the reverse) is full of, and Chinese customer data never is:
# kana, bopomofo, Hangul, Greek, Cyrillic, box drawing.
_FOREIGN_TO_CHINESE_DATA = (
    (0x0370, 0x04FF),
    (0x1100, 0x11FF),
    (0x2500, 0x259F),
    (0x3040, 0x312F),
    (0x3130, 0x318F),
    (0xAC00, 0xD7AF),
)
# The scripts whose words customer data here carries; two-byte Chinese read as UTF-8 or a single-byte
# code page also makes "words" of Armenian, Hebrew or Arabic letters, so those count as symbols.
_SCRIPTS = {"LATIN", "CYRILLIC", "GREEK"}


def cjk_plausibility(text: str, standard: str = "any") -> float:
    """Mean plausibility of the non-ASCII characters of `text` as Chinese (1 frequent ... -1 impossible).

    `standard` ("gb2312", "big5" or "any") is the character set whose levels say how common a hanzi is:
    a GB18030 reading full of characters outside GB2312 is as unlikely as mainland text.
    """
    counts = [(char, n) for char, n in Counter(text).items() if not char.isascii()]
    total = sum(n for _, n in counts)
    return sum(_cjk_weight(char, standard) * n for char, n in counts) / total if total else 1.0


def cjk_run_plausibility(runs: Iterable[tuple[str, str, str]], standard: str = "any") -> float:
    """cjk_plausibility of non-ASCII runs (run, character before, character after), where a run wedged
    between ASCII letters counts only its frequent characters: M黮ler is `ü` + `l` read as GBK."""
    plain: Counter[str] = Counter()
    wedged: Counter[str] = Counter()
    for run, before, after in runs:
        (wedged if _neighbour(before) == "a" == _neighbour(after) else plain).update(run)
    plain_weight = sum(_cjk_weight(char, standard) * n for char, n in plain.items() if not char.isascii())
    wedged_weight = sum(
        min(_cjk_weight(char, standard), 0.0) * n if _cjk_weight(char, standard) < 1.0 else n
        for char, n in wedged.items()
        if not char.isascii()
    )
    total = sum(n for char, n in (plain + wedged).items() if not char.isascii())
    return (plain_weight + wedged_weight) / total if total else 1.0


def least_cjk_plausibility(text: str, standard: str = "any") -> float:
    """The plausibility as Chinese of the least plausible non-ASCII character of `text` (1.0 if none)."""
    return min((_cjk_weight(char, standard) for char in set(text) if not char.isascii()), default=1.0)


@lru_cache(maxsize=1 << 16)
def _cjk_weight(char: str, standard: str) -> float:
    if char in _CJK_PUNCTUATION:
        return 1.0
    if char == "\ufffd" or unicodedata.category(char) in {"Cc", "Cn", "Co", "Cs"}:
        return -1.0
    code = ord(char)
    if 0x4E00 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF:
        level = _hanzi_commonness(char, standard)
        # A frequent character counts as one only inside the reading's character set: 發 in a GB18030
        # reading is GBK's rare traditional form, most likely Big5 bytes read as GB18030.
        return 1.0 if level > 0 and char in _FREQUENT_HANZI else level
    if char in _WESTERN_SYMBOLS or char in _CJK_SIGNS:
        # Real in Chinese data too (€, °, ±, ①), but below any GB2312 hanzi: the two bytes of 掳 are
        # `°` in UTF-8, and on a tie the mainland reading should win.
        return 0.5
    if any(first <= code <= last for first, last in _FOREIGN_TO_CHINESE_DATA):
        return -0.5
    # Other symbols, pinyin tone letters, CJK extension ideographs (GB18030's four-byte rare names).
    return 0.0


def _hanzi_commonness(char: str, standard: str) -> float:
    """0.6 for the common level of the character set (GB2312 level 1, Big5's frequent characters), 0.3
    for its second level, -0.3 outside it; a UTF-8 text is judged by whichever ranks it higher.

    Outside counts against a reading: Big5 bytes with a trail byte 0x40-0x7E (two in five) read as GBK's
    rare extension characters, which mainland data holds only in a few given names.
    """
    best = -0.3
    for codec, common, less_common in _HANZI_LEVELS:
        if standard not in (codec, "any"):
            continue
        try:
            code = int.from_bytes(char.encode(codec), "big")
        except UnicodeEncodeError:
            continue
        if common[0] <= code <= common[1]:
            return 0.6
        if less_common[0] <= code <= less_common[1]:
            best = 0.3
    return best


def word_plausibility(runs: Iterable[tuple[str, str, str]]) -> float:
    """Mean plausibility of non-ASCII runs (run, character before, character after) as Western words.

    Built for single-byte readings: an accented letter inside a Latin word (Müller, Café) scores high,
    a Cyrillic word standing alone a little lower, symbol soup and three accented letters in a row low.
    """
    shapes = Counter((run, _neighbour(before), _neighbour(after)) for run, before, after in runs)
    total = sum(len(run) * n for (run, _, _), n in shapes.items())
    weighted = sum(_word_weight(*shape) * len(shape[0]) * n for shape, n in shapes.items())
    return weighted / total if total else 1.0


def run_word_plausibility(run: str, before: str, after: str) -> float:
    """The plausibility of one non-ASCII run as (part of) a Western word."""
    return _word_weight(run, _neighbour(before), _neighbour(after))


def _neighbour(char: str) -> str:
    """'a' for an ASCII letter, '1' for a digit, '' for anything else beside a run."""
    if char.isascii() and char.isalpha():
        return "a"
    return "1" if char.isascii() and char.isdigit() else ""


@lru_cache(maxsize=1 << 14)
def _word_weight(run: str, before: str, after: str) -> float:
    scripts = {_script(char) for char in run}
    if len(scripts) == 1 and None not in scripts:
        if scripts != {"LATIN"}:
            # A Cyrillic or Greek word stands alone, in one case pattern (Иван, ИВАН), of the letters
            # living languages use; glued to ASCII letters, alone, mixed case or archaic it is two-byte
            # Chinese read wrongly. Even a good one scores under _SINGLE_BYTE_CLEAR: Cyrillic from a
            # single-byte code page never displaces a CJK reading.
            word = len(run) > 1 and (run.islower() or run.isupper() or run.istitle())
            if "a" in (before, after) or not word or not all(map(_in_modern_alphabet, run)):
                return 0.3
            return 0.8
        if len(run) > 2:
            return 0.1  # no Western word has three accented letters in a row
        if before == "a" and after == "a":
            return 1.0  # Müller
        if before == "a":
            return 0.9  # Café
        if after == "a":
            return 0.8 if run[0].isupper() else 0.4  # Über; a lowercase accented initial is rare
        return 0.2 if "1" in (before, after) else 0.5
    # Western symbols belong with numbers (£100, 25°C); alone they are as likely two-byte Chinese.
    symbol = 0.8 if "1" in (before, after) else 0.7
    weights = [
        symbol if char in _WESTERN_SYMBOLS else -1.0 if unicodedata.category(char)[0] == "C" else 0.1
        for char in run
    ]
    return sum(weights) / len(weights)


def _in_modern_alphabet(char: str) -> bool:
    """Whether a Cyrillic or Greek letter is one of Russian, Ukrainian, Bulgarian, Serbian or Greek."""
    code = ord(char)
    return 0x0400 <= code <= 0x045F or code in (0x0490, 0x0491) or 0x0386 <= code <= 0x03CE


def _script(char: str) -> str | None:
    """The script of a letter (LATIN, CYRILLIC ...); None for symbols and letter-like signs (ª, º)."""
    if not char.isalpha():
        return None
    script = unicodedata.name(char, "").split(" ")[0]
    return script if script in _SCRIPTS else None
