"""Hand-written phrasings for the benchmark call corpus (fictional telecom Brightwave / 光澜通信).

One entry per intent. Per language:

* ``open``: the caller's first statement of the issue (several phrasings, different words,
  not one template with swapped nouns);
* ``probe`` / ``detail``: the agent asks for what it needs, the caller gives it;
* ``answer``: the agent's resolution (consistent with the shared set's company facts);
* ``follow``: (caller question, agent answer) pairs, one is drawn per call;
* ``sec``: a one-line version of the issue, used when the intent is a call's *secondary* intent,
  with the agent's short answer;
* ``faq`` (question, answer) and ``summary``: reference content for the call JSON.

Placeholders: {order} order/account number, {n} a small number of days.
"""

from __future__ import annotations

INTENTS: dict[str, dict[str, dict]] = {
    "technical_outage": {
        "en": {
            "open": [
                "My home internet has been completely down since this morning and nothing I do brings it back.",
                "None of the lights on my router are green and I have no connection at all.",
                "I can't get online, the broadband just dropped out last night and hasn't come back.",
                "Is there an outage in my area? My fibre connection is dead.",
                "My mobile has no signal at all, it just says no service, and my neighbour has the same problem.",
                "We've lost the internet in the whole house, the wifi shows no internet access.",
            ],
            "probe": ["I'm sorry about that. Can you tell me your postcode so I can check the network?"],
            "detail": ["It's north eleven, four B A.", "Sure, the postcode is east two, seven J Q."],
            "answer": [
                "Thank you. I can see a fault at the local exchange affecting your street. Engineers are on site and expect to restore service by six this evening. You'll get a text when it's fixed.",
                "There is a known outage in your area caused by a damaged cable. The repair should be finished tonight, and we'll text you as soon as it's back.",
            ],
            "follow": [
                ("Will I be compensated for the days without service?", "Yes, if the outage lasts more than twenty four hours you get an automatic credit on your next bill."),
                ("How can I check the progress myself?", "You can follow it on the status page in the Brightwave app, it updates every hour."),
            ],
            "sec": ("Also, my connection dropped out completely last night, was there an outage?", "Yes, there was a short outage in your area last night, it's fixed now."),
            "faq": ("What should I do if my internet is down?", "Check the status page in the app; we text you when a fault is fixed, and outages over 24 hours get an automatic bill credit."),
            "summary": "Caller reports a loss of service; agent confirms a local outage, gives a repair time and explains the text alert and bill credit.",
        },
        "zh": {
            "open": [
                "我家的宽带从今天早上开始就完全上不了网了。",
                "我的手机一直显示无服务，打不了电话也上不了网。",
                "路由器的灯全是红的，网络一点反应都没有。",
                "请问我们小区是不是断网了？从昨晚到现在都连不上。",
                "家里的光纤突然断了，所有设备都没有网络。",
            ],
            "probe": ["非常抱歉。请问您的地址是哪里？我帮您查一下网络情况。"],
            "detail": ["我住在海淀区学院路十二号。", "朝阳区建国路八十八号。"],
            "answer": [
                "查到了，您所在区域的光缆出现故障，工程师正在抢修，预计今晚六点前恢复，修好后会短信通知您。",
                "您那边的基站出现了故障，目前正在维修，预计今天晚上可以恢复，恢复后我们会发短信告诉您。",
            ],
            "follow": [
                ("断网这么久，有没有补偿？", "如果故障超过二十四小时，系统会自动在下个月账单里给您减免费用。"),
                ("我怎么知道什么时候修好？", "您可以在光澜通信应用里查看网络状态页面，修好后也会短信通知您。"),
            ],
            "sec": ("还有，我家昨晚断网了，是不是有故障？", "是的，昨晚您那边有短暂的网络故障，现在已经修好了。"),
            "faq": ("宽带断网了怎么办？", "可以在应用的网络状态页面查看故障进度，修复后会短信通知；故障超过二十四小时会自动减免费用。"),
            "summary": "客户反映网络中断；客服确认当地故障并告知预计恢复时间、短信通知和补偿规则。",
        },
    },
    "billing_dispute": {
        "en": {
            "open": [
                "My bill this month is way higher than it should be and I don't understand why.",
                "I've been charged forty pounds extra on my latest bill for something I never used.",
                "There's a charge on my statement for premium services that I didn't sign up for.",
                "I want to dispute my last invoice, the amount is wrong.",
                "Why has my monthly bill gone up? My plan is supposed to be thirty pounds.",
            ],
            "probe": ["Let me look into that. Could you give me your account number, please?"],
            "detail": ["It's {order}.", "Yes, my account number is {order}."],
            "answer": [
                "I can see a charge for premium text services. I've opened a dispute for it; we review disputes within ten business days and any credit appears on your next bill.",
                "You're right, there's a charge that doesn't match your plan. I've raised a billing dispute, it will be reviewed within ten business days and the credit will show on your next bill.",
            ],
            "follow": [
                ("Do I still have to pay the full bill by the fifteenth?", "Please pay the undisputed part by the fifteenth; the disputed amount is on hold until the review is done."),
                ("Can you block those premium services from now on?", "Yes, I've put a premium services block on your line, so it won't happen again."),
            ],
            "sec": ("And one more thing, there's a charge on my bill I don't recognise.", "I've raised a billing dispute for that charge, you'll hear back within ten business days."),
            "faq": ("How do I dispute a charge on my bill?", "Call us or use the app to raise a dispute; disputes are reviewed within 10 business days and credits appear on the next bill."),
            "summary": "Caller questions an unexpected charge on the bill; agent opens a billing dispute, explains the ten-day review and the credit on the next bill.",
        },
        "zh": {
            "open": [
                "我这个月的话费账单比平时多了一百多块，我不明白为什么。",
                "账单上有一笔增值业务的扣费，我从来没有开通过。",
                "我想投诉一下我的账单，金额明显不对。",
                "为什么我的月费突然涨了？我的套餐应该是五十八元。",
            ],
            "probe": ["我来帮您查一下。请您提供一下账户号码。"],
            "detail": ["我的账户号码是{order}。", "账号是{order}。"],
            "answer": [
                "查到了，您的账单里有一笔增值业务费用。我已经为您提交了账单异议，十个工作日内会审核完毕，退款会在下期账单里抵扣。",
                "确实有一笔和您套餐不符的费用，我帮您提交了申诉，十个工作日内处理，费用会在下个月账单中返还。",
            ],
            "follow": [
                ("那这个月的话费我还要全部交吗？", "没有争议的部分请在十五号之前缴纳，有争议的金额会先暂停收取。"),
                ("以后能不能帮我把这些增值业务都关掉？", "可以，我已经为您的号码开通了增值业务屏蔽，以后不会再扣这类费用。"),
            ],
            "sec": ("另外，我账单上有一笔费用看不懂。", "我已经帮您提交了账单异议，十个工作日内会给您答复。"),
            "faq": ("账单金额有误怎么办？", "可以致电或在应用里提交账单异议，十个工作日内审核，退款在下期账单中抵扣。"),
            "summary": "客户对账单中的异常费用提出异议；客服提交申诉并说明十个工作日审核、下期账单抵扣。",
        },
    },
    "order_status": {
        "en": {
            "open": [
                "I placed an order for a new phone last week and I'd like to know where it is.",
                "Can you tell me the status of my order? I haven't had any update.",
                "I ordered a tablet on your website and I'm not sure if it has even been shipped.",
                "I'm calling to track a package, I bought some headphones from your online shop.",
                "Has my order been dispatched yet? The website still says processing.",
            ],
            "probe": ["Of course. Can I have the order number, please?"],
            "detail": ["The order number is {order}.", "It's {order}."],
            "answer": [
                "Thanks. Your order was dispatched yesterday and it's with the courier now. It should arrive within the next two business days.",
                "I can see your order has been packed and will leave our warehouse today. Standard delivery takes three to five business days.",
            ],
            "follow": [
                ("Will I get a tracking number?", "Yes, you'll get a text and an email with the tracking link as soon as the courier scans it."),
                ("Do I need to be home to sign for it?", "Yes, phones need a signature. If you're out, the courier will leave a card and try again the next day."),
            ],
            "sec": ("While I have you, could you check where my other order is?", "That order has shipped and should arrive in two days."),
            "faq": ("How can I check the status of my order?", "Use the order number on the website or app; you get a tracking link by text and email once the courier has the parcel."),
            "summary": "Caller asks where an online order is; agent gives the shipping status, expected arrival and tracking details.",
        },
        "zh": {
            "open": [
                "我上周在官网订了一部手机，想问一下现在到哪了。",
                "请帮我查一下订单状态，一直没有物流信息。",
                "我在你们网上商城买了耳机，不知道发货了没有。",
                "我的订单显示还在处理中，什么时候能发货？",
            ],
            "probe": ["好的，请提供一下您的订单号。"],
            "detail": ["订单号是{order}。", "我的订单号是{order}。"],
            "answer": [
                "查到了，您的订单昨天已经发货，目前在快递公司那里，预计两个工作日内送到。",
                "您的订单已经打包好了，今天会从仓库发出，标准配送需要三到五个工作日。",
            ],
            "follow": [
                ("有快递单号吗？", "有的，快递揽收后会通过短信和邮件把物流链接发给您。"),
                ("需要本人签收吗？", "手机需要本人签收，如果不在家，快递员会第二天再送一次。"),
            ],
            "sec": ("顺便帮我查一下另一个订单到哪了。", "那个订单已经发货了，两天内能到。"),
            "faq": ("怎么查询订单状态？", "在官网或应用中输入订单号即可查询；快递揽收后会短信和邮件发送物流链接。"),
            "summary": "客户询问网上订单的进度；客服告知发货状态、预计送达时间和物流信息。",
        },
    },
    "password_reset": {
        "en": {
            "open": [
                "I've forgotten the password for my online account and I can't log in.",
                "I'm locked out of the Brightwave app, it keeps saying my password is wrong.",
                "Can you help me reset my password? The reset email never arrives.",
                "I tried to log in too many times and now my account is locked.",
                "I can't sign in to my account, I think I need a new password.",
            ],
            "probe": ["I can help with that. What's the mobile number registered on the account?"],
            "detail": ["It's oh seven seven double oh, nine one two, three four five.", "The number ends in four five six seven."],
            "answer": [
                "Thanks. I've sent a six digit code to that number. Enter it on the forgot password page within ten minutes and you can choose a new password.",
                "Your account was locked after five wrong attempts; that lasts thirty minutes. I've unlocked it and sent you a reset link, which is valid for fifteen minutes.",
            ],
            "follow": [
                ("What if the code doesn't come through?", "Wait a minute and press resend code; if it still doesn't arrive, check that your phone isn't blocking short codes."),
                ("Are there any rules for the new password?", "It needs at least eight characters, with a number and a letter, and it can't be one of your last three passwords."),
            ],
            "sec": ("Oh, and I also can't log in to the app, I forgot my password.", "I've sent you a reset code by text, it's valid for ten minutes."),
            "faq": ("How do I reset my password?", "Use the forgot password link; a 6-digit code is texted to your registered mobile and is valid for 10 minutes. Five wrong attempts lock the account for 30 minutes."),
            "summary": "Caller cannot log in; agent sends a reset code or link and explains how long it is valid.",
        },
        "zh": {
            "open": [
                "我忘记网上营业厅的登录密码了，登不进去。",
                "我的账户被锁了，一直提示密码错误。",
                "请帮我重置一下密码，我收不到重置邮件。",
                "光澜的应用我登录不了，想改一个新密码。",
            ],
            "probe": ["好的，请问您账户绑定的手机号是多少？"],
            "detail": ["是一三八一二三四五六七八。", "手机号尾号是四五六七。"],
            "answer": [
                "已经给您的手机发送了六位验证码，十分钟内在忘记密码页面输入，就可以设置新密码了。",
                "您的账户因为连续输错五次被锁定三十分钟，我已经帮您解锁，并发送了重置链接，十五分钟内有效。",
            ],
            "follow": [
                ("如果收不到验证码怎么办？", "请等一分钟后点重新发送，如果还是收不到，检查一下手机是否拦截了短信。"),
                ("新密码有什么要求吗？", "至少八位，要包含字母和数字，而且不能和最近三次的密码相同。"),
            ],
            "sec": ("还有，我的应用密码忘了，登不上去。", "我给您发了验证码短信，十分钟内有效。"),
            "faq": ("忘记密码怎么办？", "点击忘记密码，验证码会发送到绑定手机，十分钟内有效；连续输错五次会锁定三十分钟。"),
            "summary": "客户无法登录账户；客服发送验证码或重置链接并说明有效期。",
        },
    },
    "slow_internet": {
        "en": {
            "open": [
                "My broadband is painfully slow in the evenings, pages take forever to load.",
                "I'm paying for a hundred megabits but the speed test only shows about ten.",
                "Video calls keep freezing because the connection is so slow.",
                "The internet speed has dropped a lot this week, streaming keeps buffering.",
                "My download speeds are terrible, much slower than what I signed up for.",
            ],
            "probe": ["Let me run a line test. Is the router on right now?"],
            "detail": ["Yes, it's on and all the lights look normal.", "It's on, I restarted it this morning."],
            "answer": [
                "The line test shows your router is on an old firmware and a busy wifi channel. I've pushed an update; after it restarts, try connecting with a cable or moving closer to the router.",
                "I can see a lot of noise on your line. I've reset the line profile from our side, and if speeds are still low tomorrow we'll send an engineer free of charge.",
            ],
            "follow": [
                ("What speed should I actually be getting?", "On your plan you should see at least eighty megabits on a cable connection; wifi will be a little lower."),
                ("Can I get a discount if it stays slow?", "If the engineer can't bring it up to the minimum guaranteed speed, you can leave the contract without a fee or move to a cheaper plan."),
            ],
            "sec": ("Also, my internet has been really slow lately.", "I've reset your line profile, speeds should improve within an hour."),
            "faq": ("Why is my internet slow?", "Restart the router and test with a cable; we can run a line test and reset the line profile, and send an engineer free if speeds stay below the guaranteed minimum."),
            "summary": "Caller complains about slow broadband; agent runs a line test, applies a fix and explains the next steps.",
        },
        "zh": {
            "open": [
                "我家的网速晚上特别慢，打开网页要等很久。",
                "我办的是一百兆宽带，测速只有十兆左右。",
                "视频通话老是卡，网太慢了。",
                "这周网速突然变得很慢，看视频一直在缓冲。",
            ],
            "probe": ["我帮您做一下线路检测，路由器现在是开着的吗？"],
            "detail": ["开着的，指示灯都正常。", "开着，我早上刚重启过。"],
            "answer": [
                "检测显示您的路由器固件比较旧，无线信道也比较拥挤，我已经远程升级了，重启后建议用网线连接试试。",
                "您的线路噪声比较大，我已经从后台重置了线路配置，如果明天网速还是慢，我们会免费派工程师上门。",
            ],
            "follow": [
                ("正常应该有多快？", "您的套餐用网线连接至少应该有八十兆，无线会稍微低一些。"),
                ("一直这么慢能不能打折？", "如果工程师也无法达到最低保证速率，您可以免违约金解约或者换更便宜的套餐。"),
            ],
            "sec": ("另外，最近网速也很慢。", "我已经帮您重置了线路，一小时内网速会恢复。"),
            "faq": ("网速慢怎么办？", "先重启路由器并用网线测速；客服可以远程检测和重置线路，达不到保证速率会免费派工程师。"),
            "summary": "客户反映宽带网速慢；客服做线路检测并处理，说明后续安排。",
        },
    },
    "delivery_delay": {
        "en": {
            "open": [
                "My parcel was supposed to arrive three days ago and it still hasn't turned up.",
                "The courier keeps pushing back my delivery date, this is the second delay.",
                "I paid for express delivery and it's late, it was meant to come yesterday.",
                "My new router still hasn't been delivered even though the tracking said out for delivery on Monday.",
                "The delivery is a week late and nobody has told me why.",
            ],
            "probe": ["I'm sorry about the wait. What's your order number?"],
            "detail": ["It's {order}.", "The order number is {order}."],
            "answer": [
                "I've contacted the courier. The parcel was held at their depot because of a missed scan; it's out for delivery tomorrow morning. I'm sorry for the delay.",
                "The courier had a backlog at the sorting centre. Your parcel is moving again and will be delivered within two days. I've refunded your express delivery fee.",
            ],
            "follow": [
                ("What if it doesn't come tomorrow either?", "If it hasn't arrived by tomorrow evening, call us and we'll send a replacement or give you a full refund."),
                ("Can I collect it myself instead?", "Yes, I can redirect it to the courier's local pickup point, you'll get a text with the address."),
            ],
            "sec": ("And another parcel of mine is late as well.", "I've chased the courier, that one will arrive tomorrow."),
            "faq": ("What happens if my delivery is late?", "We chase the courier and give you a new delivery date; express fees are refunded when express delivery is late, and if it never arrives we send a replacement or refund."),
            "summary": "Caller's parcel is late; agent chases the courier, gives a new delivery date and offers a refund of the delivery fee or a replacement.",
        },
        "zh": {
            "open": [
                "我的快递本来三天前就该到了，到现在还没收到。",
                "快递一直推迟送货时间，已经是第二次延误了。",
                "我付了加急运费，结果还是晚了，昨天就该到的。",
                "物流显示派送中好几天了，东西一直没送到。",
            ],
            "probe": ["非常抱歉让您久等了，请问订单号是多少？"],
            "detail": ["订单号是{order}。", "是{order}。"],
            "answer": [
                "我联系了快递公司，您的包裹因为漏扫滞留在网点，明天上午会派送，给您带来不便非常抱歉。",
                "快递分拣中心积压了，现在包裹已经在运输中，两天内送到，我已经把加急运费退给您了。",
            ],
            "follow": [
                ("要是明天还不到怎么办？", "如果明天晚上还没收到，请再联系我们，我们会补发或者全额退款。"),
                ("我能自己去取吗？", "可以，我帮您改到附近的快递自提点，地址会短信发给您。"),
            ],
            "sec": ("还有一个快递也晚了。", "我已经催了快递公司，那个明天能到。"),
            "faq": ("快递延误了怎么办？", "客服会联系快递公司并告知新的送达时间；加急延误退还运费，始终未送达可补发或退款。"),
            "summary": "客户的快递延误；客服联系快递公司，告知新的送达时间并给予退款或补发。",
        },
    },
    "roaming_activation": {
        "en": {
            "open": [
                "I'm travelling to Spain next week and I want to make sure my phone works there.",
                "How do I turn on roaming? I'm flying to Japan on Friday.",
                "Will I be able to use my data abroad? I'm going to the States for a conference.",
                "I need to activate international roaming before my holiday.",
            ],
            "probe": ["Happy to help. Which number is it for, and when do you leave?"],
            "detail": ["It's this number, I leave on Saturday.", "This phone, and I fly out on the twelfth."],
            "answer": [
                "I've switched roaming on for your number. In Europe your plan works as at home; elsewhere you can add a travel pass for five pounds a day with unlimited calls and two gigabytes of data.",
                "Roaming is now active. For that country I recommend the daily travel pass, five pounds a day, charged only on days you use your phone there.",
            ],
            "follow": [
                ("Do I need to change any settings on my phone?", "Just turn on data roaming in your phone's mobile settings when you land, everything else is done."),
                ("How do I stop it running up a huge bill?", "There's a fifty pound spending cap on roaming, we'll text you before you reach it."),
            ],
            "sec": ("By the way, can you also switch on roaming? I'm travelling next month.", "Roaming is now on; you can add the daily travel pass for five pounds."),
            "faq": ("How do I use my phone abroad?", "Ask us or use the app to turn on roaming; in Europe your plan works as at home, elsewhere add the travel pass at 5 a day. Turn on data roaming on the phone."),
            "summary": "Caller is travelling abroad; agent activates roaming and explains the travel pass and costs.",
        },
        "zh": {
            "open": [
                "我下周要去日本出差，想开通国际漫游。",
                "出国以后手机还能上网吗？我月底去泰国旅游。",
                "请帮我开一下漫游，我周五飞美国。",
                "我要去欧洲，怎么才能在国外打电话？",
            ],
            "probe": ["好的，请问是哪个号码，什么时候出发？"],
            "detail": ["就是这个号码，周六出发。", "本机号码，十二号走。"],
            "answer": [
                "已经为您开通国际漫游了，您可以加办一个出境日包，每天二十五元，不限通话，含两个G流量。",
                "漫游已经开通，建议您使用出境日包，只有在当地使用手机的那天才收费，每天二十五元。",
            ],
            "follow": [
                ("手机需要设置什么吗？", "落地以后在手机设置里打开数据漫游就可以了，其他都已经办好了。"),
                ("会不会产生很高的费用？", "漫游有三百元的消费上限，快到上限时会短信提醒您。"),
            ],
            "sec": ("顺便帮我开通一下国际漫游，我下个月出国。", "已经开通漫游了，可以加办每天二十五元的出境日包。"),
            "faq": ("出国怎么使用手机？", "通过客服或应用开通国际漫游，可加办出境日包；到达后在手机上打开数据漫游。"),
            "summary": "客户要出国；客服开通国际漫游并介绍出境日包和费用。",
        },
    },
    "cancel_contract": {
        "en": {
            "open": [
                "I want to cancel my contract, I'm moving to another provider.",
                "How do I end my broadband contract? I don't need it any more.",
                "I'd like to close my account with Brightwave, please.",
                "I'm thinking of leaving, what would it cost me to cancel early?",
                "Please cancel my mobile plan, I'm switching networks.",
            ],
            "probe": ["I'm sorry to hear that. Can I take your account number?"],
            "detail": ["Sure, it's {order}.", "It's {order}."],
            "answer": [
                "You're outside your minimum term, so there's no fee. Cancellation takes thirty days' notice, and your last bill will come at the end of that period.",
                "You still have four months left on the contract, so there's an early exit fee of sixty pounds. Once you confirm, the service ends in thirty days.",
            ],
            "follow": [
                ("Do I have to send the router back?", "Yes, we'll email you a free return label; please send the router back within thirty days of the service ending."),
                ("Is there any offer that would make me stay?", "I can offer you the same plan at twenty percent off for twelve months if you'd like to stay."),
            ],
            "sec": ("And I'd also like to know what it costs to cancel my second line.", "That line is out of contract, so you can cancel it with thirty days' notice at no cost."),
            "faq": ("How do I cancel my contract?", "Call us with thirty days' notice; there is no fee after the minimum term, an early exit fee applies during it, and the router must be returned with the free label."),
            "summary": "Caller wants to cancel; agent explains notice period, any early exit fee and how to return the equipment.",
        },
        "zh": {
            "open": [
                "我想注销我的宽带合约，换别家了。",
                "请帮我取消手机套餐，我要转网。",
                "我想销户，现在不用你们的服务了。",
                "提前解约要付多少违约金？",
            ],
            "probe": ["很遗憾听到这个消息，请提供一下您的账户号码。"],
            "detail": ["好的，是{order}。", "账户号码{order}。"],
            "answer": [
                "您的合约期已经满了，解约不收费用，需要提前三十天申请，最后一期账单会在月底出。",
                "您的合约还剩四个月，提前解约需要支付三百元违约金，确认后三十天内停止服务。",
            ],
            "follow": [
                ("路由器要还吗？", "要的，我们会发给您免费的退货单，请在服务停止后三十天内寄回。"),
                ("有没有什么优惠能让我留下来？", "如果您愿意继续使用，我可以给您十二个月八折的优惠。"),
            ],
            "sec": ("另外，我另一张卡想销号，需要多少钱？", "那张卡已经过了合约期，提前三十天申请就可以免费注销。"),
            "faq": ("怎么解约？", "提前三十天申请；合约期满不收费，合约期内需付违约金，路由器需用免费退货单寄回。"),
            "summary": "客户要求解约；客服说明提前通知期、违约金和设备归还方式。",
        },
    },
    "plan_upgrade": {
        "en": {
            "open": [
                "I'd like to upgrade to a plan with more data.",
                "Am I eligible for a new phone yet? My contract is nearly up.",
                "I keep running out of minutes, is there a bigger plan I can move to?",
                "Can I switch to the unlimited plan?",
                "I want to change my tariff to something with five G.",
            ],
            "probe": ["Sure, let me pull up your account. What's your account number?"],
            "detail": ["It's {order}.", "My account is {order}."],
            "answer": [
                "You can upgrade now. The unlimited plan is thirty five pounds a month, and the change takes effect from your next billing date.",
                "You're eligible for an upgrade from today. I can move you to the fifty gigabyte five G plan for twenty eight pounds a month, with no fee for switching.",
            ],
            "follow": [
                ("Does that extend my contract?", "Yes, an upgrade starts a new twenty four month term, or twelve months if you keep your current phone."),
                ("Can I keep my number?", "Of course, your number stays exactly the same."),
            ],
            "sec": ("Also, can I move to a plan with more data?", "Yes, I can move you to the fifty gigabyte plan from your next bill."),
            "faq": ("How do I upgrade my plan?", "Upgrades are available through the app or by phone; the new plan starts on your next billing date, with no switching fee."),
            "summary": "Caller wants a bigger plan or a new phone; agent checks eligibility and moves the account to a new plan.",
        },
        "zh": {
            "open": [
                "我想换一个流量多一点的套餐。",
                "我的合约快到期了，现在可以换新手机吗？",
                "通话时间老是不够用，有没有更大的套餐？",
                "我想升级到五G套餐。",
            ],
            "probe": ["好的，我帮您看一下，请提供账户号码。"],
            "detail": ["是{order}。", "我的账号是{order}。"],
            "answer": [
                "可以办理，无限流量套餐每月一百二十八元，从下个计费周期开始生效。",
                "您现在就可以升级，我帮您换成每月九十八元的五G套餐，含五十个G流量，不收变更费。",
            ],
            "follow": [
                ("换套餐会延长合约吗？", "会的，升级后重新开始二十四个月的合约，不换手机的话是十二个月。"),
                ("号码会变吗？", "不会，号码保持不变。"),
            ],
            "sec": ("还有，我想换个流量多点的套餐。", "可以，下个月开始给您换成五十个G的套餐。"),
            "faq": ("怎么升级套餐？", "可在应用或电话办理升级，新套餐从下个计费周期生效，不收变更费。"),
            "summary": "客户想升级套餐或换新机；客服确认资格并办理套餐变更。",
        },
    },
    "return_policy": {
        "en": {
            "open": [
                "I bought a phone case last week and it doesn't fit, can I send it back?",
                "What's your returns policy? I changed my mind about the headphones I ordered.",
                "I'd like to return a smartwatch I bought online.",
                "Can I get my money back on a charger I haven't opened?",
            ],
            "probe": ["Yes, let me check. When did you receive it, and is it still in the box?"],
            "detail": ["I got it {n} days ago and it's still in the original packaging.", "About {n} days ago, it's unopened."],
            "answer": [
                "That's fine, you're within our thirty day return window. Bring it to any store or print a free return label from your account, and the refund goes back to your card within five to seven business days after we receive it.",
                "You can return it within thirty days if it's in the original packaging. Once it reaches us, the refund goes to your original payment method within five to seven business days.",
            ],
            "follow": [
                ("Can I exchange it instead of getting a refund?", "Yes, any store can swap it for another item on the spot."),
                ("What if it's faulty rather than just unwanted?", "Faulty items are covered by a twelve month warranty, so we'll repair or replace it."),
            ],
            "sec": ("And can I still return the cable I bought with it?", "Yes, it's within thirty days, so you can return it with the same label."),
            "faq": ("What is your return policy?", "Returns are accepted within 30 days in the original packaging; refunds go to the original payment method within 5-7 business days after the item arrives."),
            "summary": "Caller wants to return an item; agent explains the thirty-day return window and how the refund is paid.",
        },
        "zh": {
            "open": [
                "我上周买的手机壳尺寸不对，可以退吗？",
                "你们的退货政策是怎样的？我不想要那副耳机了。",
                "我想退掉网上买的智能手表。",
                "没拆封的充电器能退款吗？",
            ],
            "probe": ["可以的，请问是什么时候收到的？包装还在吗？"],
            "detail": ["{n}天前收到的，包装都还在。", "大概{n}天前，还没拆封。"],
            "answer": [
                "没问题，在三十天退货期内。您可以到任意门店退，或者在账户里打印免费退货单，收到商品后五到七个工作日退回原支付方式。",
                "原包装完好的话三十天内都可以退，我们收到后五到七个工作日内原路退款。",
            ],
            "follow": [
                ("可以换货吗？", "可以，到任何门店都能当场换。"),
                ("如果是质量问题呢？", "质量问题有十二个月保修，我们会维修或更换。"),
            ],
            "sec": ("另外，一起买的数据线也能退吗？", "可以，在三十天内，用同一张退货单寄回就行。"),
            "faq": ("退货政策是什么？", "原包装三十天内可退，收到商品后五到七个工作日原路退款。"),
            "summary": "客户想退货；客服说明三十天退货期和退款方式。",
        },
    },
    "sim_replacement": {
        "en": {
            "open": [
                "I lost my phone yesterday and I need to block the SIM.",
                "My phone was stolen on the bus, what do I do about my number?",
                "My SIM card has stopped working, it says no SIM inserted.",
                "I need a replacement SIM, mine is damaged.",
            ],
            "probe": ["I'm sorry to hear that. Can you confirm your full name and date of birth?"],
            "detail": ["It's {name}, born the third of May, nineteen eighty eight.", "{name}, ninth of October, nineteen ninety."],
            "answer": [
                "Thank you. I've barred the SIM so nobody can use it, and a new SIM with your same number will be posted today; it's free and arrives in one to two days.",
                "I've ordered a replacement SIM with your existing number. It arrives within two days, or you can pick one up in any store today with photo ID.",
            ],
            "follow": [
                ("Can I block the phone itself too?", "Yes, I've also blocked the handset's I M E I, so it won't work on any network."),
                ("Will I lose my contacts?", "Contacts saved to your cloud account will come back; the number and plan stay the same."),
            ],
            "sec": ("Oh, and my SIM card is also a bit damaged, can I get a new one?", "I'll send you a free replacement SIM with the same number."),
            "faq": ("What do I do if my phone is lost or stolen?", "Call us to bar the SIM and block the handset; a free replacement SIM with the same number arrives in 1-2 days or can be collected in store with photo ID."),
            "summary": "Caller's phone or SIM is lost or broken; agent bars the SIM and sends a replacement with the same number.",
        },
        "zh": {
            "open": [
                "我的手机昨天丢了，要挂失电话卡。",
                "我的手机在地铁上被偷了，号码怎么办？",
                "我的手机卡突然读不出来了，显示无卡。",
                "电话卡坏了，想补一张新卡。",
            ],
            "probe": ["很抱歉听到这个消息，请告诉我您的姓名和身份证后四位。"],
            "detail": ["我叫{name}，身份证后四位是三二一五。", "{name}，后四位八八零六。"],
            "answer": [
                "已经为您挂失了，别人无法使用这张卡。新的卡号码不变，今天寄出，免费，一到两天就能收到。",
                "我已经为您补办新卡，号码不变，两天内寄到，您也可以今天带身份证去营业厅领取。",
            ],
            "follow": [
                ("手机本身能锁住吗？", "可以，我已经把手机的串号也加入黑名单，任何网络都用不了。"),
                ("通讯录会丢吗？", "保存在云端的联系人可以恢复，号码和套餐都不变。"),
            ],
            "sec": ("还有，我的电话卡有点坏了，能换一张吗？", "可以，我免费给您补一张新卡，号码不变。"),
            "faq": ("手机丢了怎么办？", "致电客服挂失并锁定手机；免费补办同号新卡，一到两天寄到，或凭身份证到营业厅领取。"),
            "summary": "客户手机或电话卡丢失损坏；客服挂失并补办同号新卡。",
        },
    },
    "refund_status": {
        "en": {
            "open": [
                "I returned a phone two weeks ago and still haven't had my refund.",
                "When will I get my money back? You received my return last week.",
                "I'm chasing a refund that was promised to me.",
                "My refund hasn't shown up on my card yet.",
            ],
            "probe": ["Let me check. What's the order number of the return?"],
            "detail": ["It's {order}.", "The return was for order {order}."],
            "answer": [
                "The return arrived on Tuesday and the refund was issued yesterday. It goes back to your original card and can take up to five business days to appear.",
                "I can see the return was received but the refund got stuck. I've pushed it through now, and it will reach your card within five to seven business days.",
            ],
            "follow": [
                ("Will I get a confirmation?", "Yes, you'll get an email with the refund reference as soon as it's sent."),
                ("Can it go to a different card?", "Refunds can only go to the original payment method, I'm afraid."),
            ],
            "sec": ("Also, I'm still waiting for a refund on an earlier return.", "That refund was issued yesterday, it should appear within five days."),
            "faq": ("When will I receive my refund?", "Refunds go to the original payment method within 5-7 business days after the returned item arrives; you get an email with the refund reference."),
            "summary": "Caller asks where a refund is; agent confirms the return, issues or checks the refund and gives the timeline.",
        },
        "zh": {
            "open": [
                "我两周前退了货，到现在退款还没到账。",
                "你们上周就收到退货了，钱什么时候退给我？",
                "之前答应给我的退款一直没收到。",
                "退款一直没有到我的卡上。",
            ],
            "probe": ["我帮您查一下，请提供退货的订单号。"],
            "detail": ["订单号是{order}。", "退的是{order}这个订单。"],
            "answer": [
                "退货周二已经收到，退款昨天已经发起，会原路退回您的银行卡，最多需要五个工作日到账。",
                "退货已经收到，但是退款卡在系统里了，我已经重新提交，五到七个工作日内会到您的卡上。",
            ],
            "follow": [
                ("会有通知吗？", "会的，退款发出后会给您发一封带退款编号的邮件。"),
                ("能退到别的卡上吗？", "抱歉，退款只能原路退回。"),
            ],
            "sec": ("另外，我上次退货的钱还没到。", "那笔退款昨天已经发出，五天内到账。"),
            "faq": ("退款多久到账？", "收到退货后五到七个工作日原路退回，发出后会邮件通知退款编号。"),
            "summary": "客户询问退款进度；客服确认退货并处理退款，告知到账时间。",
        },
    },
    "opening_hours": {
        "en": {
            "open": [
                "What time does your store close today?",
                "Are your shops open on Sunday?",
                "I'd like to know your opening hours for the Market Street store.",
                "Can I come into a store on a bank holiday?",
            ],
            "probe": ["Sure. Which store are you thinking of visiting?"],
            "detail": ["The one on Market Street.", "The store in the shopping centre near me."],
            "answer": [
                "Our stores are open Monday to Saturday from nine to eight, and Sunday from ten to five. Market Street stays open until nine on Thursdays.",
                "On public holidays stores open from ten to four; the rest of the week it's nine to eight, and ten to five on Sundays.",
            ],
            "follow": [
                ("Do I need an appointment?", "Not for accessories or questions; appointments are only needed for repairs and new contracts."),
                ("Is the phone line open late too?", "Phone support is open eight a.m. to ten p.m. every day, and technical support is twenty four hours."),
            ],
            "sec": ("Oh, and what time do your stores close on Sunday?", "On Sundays stores are open from ten until five."),
            "faq": ("What are your store opening hours?", "Monday to Saturday 9 a.m. to 8 p.m., Sunday 10 a.m. to 5 p.m., public holidays 10 to 4; Market Street is open until 9 p.m. on Thursdays."),
            "summary": "Caller asks when stores are open; agent gives the weekly and holiday hours.",
        },
        "zh": {
            "open": [
                "请问你们营业厅今天几点关门？",
                "周日门店开门吗？",
                "我想问一下你们门店的营业时间。",
                "节假日营业厅开不开？",
            ],
            "probe": ["好的，请问您想去哪家门店？"],
            "detail": ["人民路那家。", "我家附近商场里的那家。"],
            "answer": [
                "我们的门店周一到周六早上九点到晚上八点营业，周日十点到五点，人民路旗舰店周四开到晚上九点。",
                "节假日门店营业时间是十点到四点，平时是九点到八点，周日十点到五点。",
            ],
            "follow": [
                ("需要预约吗？", "买配件或咨询不用预约，维修和办理新合约需要预约。"),
                ("客服电话几点下班？", "电话客服每天早八点到晚十点，技术支持二十四小时。"),
            ],
            "sec": ("对了，周日营业厅几点关门？", "周日门店十点到五点营业。"),
            "faq": ("门店营业时间是几点？", "周一至周六九点到二十点，周日十点到十七点，节假日十点到十六点。"),
            "summary": "客户询问门店营业时间；客服告知平日、周日和节假日时间。",
        },
    },
    "data_allowance": {
        "en": {
            "open": [
                "I've run out of mobile data and it's only the middle of the month.",
                "I got a text saying I've used ninety percent of my data, can I get more?",
                "My internet on the phone has slowed right down, I think my allowance is used up.",
                "How do I buy an extra data bundle?",
            ],
            "probe": ["Let me check your usage. Is it for the number you're calling from?"],
            "detail": ["Yes, this number.", "Yes, it's this phone."],
            "answer": [
                "You've used all twenty gigabytes. I can add a data top up of five gigabytes for five pounds, valid until your next bill date.",
                "Your allowance is used up, so speeds are reduced. I've added a ten gigabyte booster for eight pounds, it's active straight away.",
            ],
            "follow": [
                ("Why did I use so much?", "Most of it was video streaming; turning on data saver in the app can help."),
                ("Will the extra data roll over?", "No, boosters expire on your next bill date, but unused plan data does roll over for one month."),
            ],
            "sec": ("And I've nearly used up my data, can you add some?", "I've added a five gigabyte top up for five pounds."),
            "faq": ("What can I do when I run out of mobile data?", "Buy a data top up or booster in the app or by phone; it is active straight away and lasts until the next bill date."),
            "summary": "Caller has used up their data; agent adds a top-up bundle and explains how it works.",
        },
        "zh": {
            "open": [
                "我这个月的流量已经用完了，才到月中。",
                "收到短信说流量用了百分之九十，能加点流量吗？",
                "手机上网变得特别慢，是不是流量用完了？",
                "怎么买流量加油包？",
            ],
            "probe": ["我帮您查一下使用情况，是您现在打电话的这个号码吗？"],
            "detail": ["对，就是这个号。", "是的，本机。"],
            "answer": [
                "您套餐里的二十个G已经用完了，可以加一个五个G的流量包，十五元，到下个账单日前有效。",
                "流量已经用完所以限速了，我帮您加了一个十个G的加油包，三十元，马上生效。",
            ],
            "follow": [
                ("为什么用了这么多？", "大部分是看视频用掉的，可以在应用里打开省流量模式。"),
                ("加油包能结转吗？", "加油包在下个账单日失效，套餐内没用完的流量可以结转一个月。"),
            ],
            "sec": ("还有，我流量快用完了，能加一点吗？", "已经帮您加了五个G的流量包。"),
            "faq": ("流量用完了怎么办？", "可以在应用或电话加购流量包，立即生效，到下个账单日有效。"),
            "summary": "客户流量用完；客服加办流量包并说明使用规则。",
        },
    },
    "payment_method_update": {
        "en": {
            "open": [
                "I've got a new bank card and I need to update my payment details.",
                "How do I change the direct debit to a different account?",
                "My card expired and I think my payment failed this month.",
                "I want to pay my bill with a different card from now on.",
            ],
            "probe": ["I can help with that. For security, can you confirm the first line of your address?"],
            "detail": ["It's twelve Station Road.", "Forty five Park Lane."],
            "answer": [
                "Thanks. I've sent you a secure link by text; enter the new card there and it will be used from your next bill. We never take card numbers over the phone.",
                "You can change it in the app under billing, payment method. The failed payment will be retried automatically three days after you update it, with no late fee.",
            ],
            "follow": [
                ("Will I be charged a late fee?", "No, as long as the new details are in before the retry, there's no late fee."),
                ("Can I pay by direct debit instead of card?", "Yes, the same link lets you set up a direct debit from your bank account."),
            ],
            "sec": ("And I need to change the card I pay with.", "I've texted you a secure link to update your card."),
            "faq": ("How do I update my payment card?", "Use the secure link we text you or the app's billing section; failed payments are retried automatically with no late fee once updated."),
            "summary": "Caller needs to change payment details; agent sends a secure link and explains the retry of the failed payment.",
        },
        "zh": {
            "open": [
                "我换了新的银行卡，需要更新一下扣款信息。",
                "怎么把自动扣款改成另一张卡？",
                "我的卡过期了，这个月好像扣费失败了。",
                "以后我想用另外一张卡交话费。",
            ],
            "probe": ["好的，为了安全，请核对一下您的地址。"],
            "detail": ["人民路十二号。", "建设路四十五号。"],
            "answer": [
                "谢谢，我已经给您发送了安全链接短信，在链接里填写新卡信息，下期账单开始生效，我们不会在电话里收集卡号。",
                "您可以在应用的账单里修改支付方式，更新后三天会自动重新扣款，不收滞纳金。",
            ],
            "follow": [
                ("会收滞纳金吗？", "只要在重新扣款前更新好，就不会收滞纳金。"),
                ("可以改成银行自动扣款吗？", "可以，同一个链接里就能设置银行账户代扣。"),
            ],
            "sec": ("另外，我要换一张扣费的银行卡。", "我给您发了安全链接，可以在里面更新银行卡。"),
            "faq": ("怎么更换扣款银行卡？", "通过短信安全链接或应用账单页面修改，更新后自动重新扣款，不收滞纳金。"),
            "summary": "客户需要更换扣款方式；客服发送安全链接并说明重新扣款。",
        },
    },
    "router_setup": {
        "en": {
            "open": [
                "My new router arrived but I can't work out how to set it up.",
                "I need help connecting the router you sent me.",
                "How do I change the wifi name and password on my router?",
                "I've plugged in the new hub and the light is flashing orange.",
            ],
            "probe": ["No problem. Is the router plugged into the wall socket for the line?"],
            "detail": ["Yes, the grey cable is in the socket.", "I think so, it's in the white socket by the door."],
            "answer": [
                "Great. A flashing orange light means it's still connecting; it can take up to ten minutes the first time. The wifi name and password are on the sticker on the back.",
                "Once the light turns white, you're connected. To change the wifi name or password, open the Brightwave app, go to my router, then wifi settings.",
            ],
            "follow": [
                ("Can I put the router upstairs instead?", "Yes, as long as it's connected to the main socket; an extension cable of up to ten metres is fine."),
                ("Do I need to keep my old router?", "No, you can recycle it, or return it with the free label in the box."),
            ],
            "sec": ("And how do I change my wifi password?", "You can change it in the app under my router, wifi settings."),
            "faq": ("How do I set up my router?", "Connect it to the main socket and wait up to 10 minutes for the light to turn white; the wifi name and password are on the back, and can be changed in the app."),
            "summary": "Caller needs help setting up a router; agent talks them through connecting it and changing the wifi settings.",
        },
        "zh": {
            "open": [
                "新的路由器到了，但我不知道怎么安装。",
                "你们寄来的路由器我连不上，需要帮忙。",
                "怎么修改路由器的无线名称和密码？",
                "新光猫插上以后灯一直闪橙色。",
            ],
            "probe": ["没问题，路由器接到墙上的网口了吗？"],
            "detail": ["接了，灰色的线插在墙上。", "应该接了，插在门口那个白色的口上。"],
            "answer": [
                "橙灯闪烁说明还在连接，第一次最多需要十分钟。无线名称和密码在路由器背面的标签上。",
                "灯变成白色就连上了。修改无线名称和密码可以在光澜应用里的我的路由器，无线设置里操作。",
            ],
            "follow": [
                ("路由器能放到楼上吗？", "可以，只要连着主网口，十米以内的延长线都没问题。"),
                ("旧的路由器要留着吗？", "不用，可以回收，或者用盒子里的免费退货单寄回来。"),
            ],
            "sec": ("还有，无线密码怎么改？", "在应用里的我的路由器，无线设置里就能改。"),
            "faq": ("路由器怎么安装？", "连接主网口，等待最多十分钟灯变白；无线名称和密码在背面标签上，可在应用中修改。"),
            "summary": "客户需要安装路由器；客服指导连接和修改无线设置。",
        },
    },
    "number_porting": {
        "en": {
            "open": [
                "I'm joining Brightwave from another network and I want to keep my old number.",
                "How do I transfer my number over to you?",
                "I requested a PAC code, what do I do with it now?",
                "My number transfer was supposed to happen yesterday and it still shows the old network.",
            ],
            "probe": ["Sure. Do you have your transfer code from your old provider?"],
            "detail": ["Yes, it's P A C, four five seven, eight one two.", "I have it here, it starts with P A C."],
            "answer": [
                "Thanks. I've submitted the transfer; your number will move over on the next working day. You might lose signal for an hour or two while it switches.",
                "The transfer is booked. Keep your old SIM in until it stops working, then put in the Brightwave SIM and your old number will be live.",
            ],
            "follow": [
                ("Will my old contract be cancelled automatically?", "Yes, transferring your number ends your old contract, though they may still charge any exit fee."),
                ("What happens to my temporary number?", "It's replaced by your old number once the transfer completes."),
            ],
            "sec": ("And I also want to bring my partner's number over from their old network.", "Just give us their transfer code and it will move the next working day."),
            "faq": ("How do I keep my number when I switch to Brightwave?", "Get a transfer code from your old provider and give it to us; the number moves on the next working day, with a short loss of signal."),
            "summary": "Caller wants to move a number from another network; agent submits the transfer and explains the timing.",
        },
        "zh": {
            "open": [
                "我想携号转网到光澜，保留原来的号码。",
                "怎么把我的号码转到你们这边来？",
                "我已经拿到携号转网授权码了，接下来怎么办？",
                "我的携号转网昨天就应该完成了，现在还是原来的运营商。",
            ],
            "probe": ["好的，请问您拿到原运营商的授权码了吗？"],
            "detail": ["拿到了，是四五七八一二。", "有的，授权码在我手上。"],
            "answer": [
                "已经帮您提交转网申请，下一个工作日完成，切换时可能会有一两个小时没信号。",
                "转网已经预约好了，旧卡不能用了之后，换上光澜的卡，原来的号码就能用了。",
            ],
            "follow": [
                ("原来的合约会自动取消吗？", "会的，转网后原合约自动终止，不过原运营商可能会收违约金。"),
                ("临时号码怎么办？", "转网完成后临时号码会被您原来的号码替换。"),
            ],
            "sec": ("另外，我爱人的号码也想转过来。", "把授权码给我们，下一个工作日就能转好。"),
            "faq": ("携号转网怎么办理？", "向原运营商获取授权码并提供给我们，下一个工作日完成转网，期间可能短暂无信号。"),
            "summary": "客户想携号转网；客服提交申请并说明时间安排。",
        },
    },
    "address_change": {
        "en": {
            "open": [
                "I'm moving house next month and I want to take my broadband with me.",
                "I need to update my address on the account, I've just moved.",
                "Can my internet be set up at my new flat?",
                "We're relocating and I want to know what happens to our contract.",
            ],
            "probe": ["Congratulations on the move. What's the new postcode?"],
            "detail": ["It's south west nine, two H R.", "The new postcode is east eight, one L B."],
            "answer": [
                "Good news, we cover that address. I've booked the move for your moving day; there's no fee and your contract carries on as before.",
                "I've updated your address. Broadband will be switched on at the new home on the date you move, and we'll send the router settings by text.",
            ],
            "follow": [
                ("Will there be a gap without internet?", "Usually no more than a day; we switch the old line off and the new one on the same day."),
                ("Do I need an engineer?", "Only if the new home has never had a line; otherwise it's done remotely."),
            ],
            "sec": ("And I'm moving soon, can you change my address?", "I've updated your address, and the broadband will move with you."),
            "faq": ("Can I take my broadband when I move house?", "Yes, tell us the new address and moving date; there's no fee, the contract continues and the line is switched on the day you move."),
            "summary": "Caller is moving home; agent updates the address and books the broadband move.",
        },
        "zh": {
            "open": [
                "我下个月搬家，想把宽带移过去。",
                "我刚搬家，需要更新账户上的地址。",
                "新房子能装你们的宽带吗？",
                "我们要搬到别的城市了，合约怎么处理？",
            ],
            "probe": ["恭喜乔迁，请问新地址是哪里？"],
            "detail": ["浦东新区世纪大道一百号。", "新地址是天河区体育西路二十号。"],
            "answer": [
                "好消息，那个地址在我们的覆盖范围内。我已经预约了移机，不收费用，合约继续有效。",
                "地址已经更新，搬家当天新家的宽带就会开通，路由器设置会短信发给您。",
            ],
            "follow": [
                ("会断网多久？", "一般不超过一天，旧线路关闭和新线路开通在同一天。"),
                ("需要师傅上门吗？", "只有新房以前没装过线路才需要，否则远程就能开通。"),
            ],
            "sec": ("另外我要搬家了，地址能改一下吗？", "已经帮您更新地址，宽带也可以一起移过去。"),
            "faq": ("搬家宽带怎么办？", "告诉我们新地址和搬家日期，免费移机，合约继续，搬家当天开通。"),
            "summary": "客户搬家；客服更新地址并预约宽带移机。",
        },
    },
    "device_repair": {
        "en": {
            "open": [
                "The screen on my phone has stopped responding, it's only six months old.",
                "My phone won't charge any more, can I get it repaired?",
                "The battery on my handset drains in a couple of hours, is that covered by warranty?",
                "My phone keeps restarting by itself.",
            ],
            "probe": ["I'm sorry about that. When did you buy the phone from us?"],
            "detail": ["About eight months ago.", "Last spring, so just under a year."],
            "answer": [
                "It's covered by our twelve month warranty. Book a repair in any store or we can send a free courier bag; repairs take about five working days.",
                "That sounds like a fault, so the warranty covers it. I've booked a free repair; you'll get a courier bag and a loan phone if you need one.",
            ],
            "follow": [
                ("Will I lose my photos?", "The repair may reset the phone, so please back it up to the cloud first."),
                ("What if it can't be fixed?", "If it can't be repaired we'll replace it with the same model."),
            ],
            "sec": ("Also, my phone's battery is really bad, can it be repaired?", "It's under warranty, so I've booked a free repair."),
            "faq": ("What if my phone is faulty?", "Faulty devices are covered by a 12-month warranty; book a repair in store or by courier bag, repairs take about five working days and a loan phone is available."),
            "summary": "Caller's phone is faulty; agent confirms the warranty and books a repair.",
        },
        "zh": {
            "open": [
                "我的手机屏幕没反应了，才买了半年。",
                "手机充不进电了，能修吗？",
                "手机电池两三个小时就没电了，保修吗？",
                "我的手机老是自己重启。",
            ],
            "probe": ["很抱歉，请问手机是什么时候在我们这里买的？"],
            "detail": ["大概八个月前。", "去年春天买的，还不到一年。"],
            "answer": [
                "在十二个月保修期内，可以到任意门店预约维修，或者我们寄免费快递袋给您，维修大约五个工作日。",
                "这属于质量问题，在保修范围内，我已经帮您预约了免费维修，需要的话还可以提供备用机。",
            ],
            "follow": [
                ("照片会丢吗？", "维修可能会重置手机，请先备份到云端。"),
                ("修不好怎么办？", "如果修不好，我们会给您换一台同型号的新机。"),
            ],
            "sec": ("还有，我手机电池不太行了，能修吗？", "在保修期内，我已经帮您预约了免费维修。"),
            "faq": ("手机出故障怎么办？", "十二个月保修期内免费维修，可到门店或寄快递袋，约五个工作日，可提供备用机。"),
            "summary": "客户手机故障；客服确认保修并预约维修。",
        },
    },
    "voicemail_setup": {
        "en": {
            "open": [
                "How do I set up my voicemail? People say it just rings out.",
                "I can't get into my voicemail, I've forgotten the PIN.",
                "I'd like to turn off voicemail completely.",
            ],
            "probe": ["Sure. Is it for the mobile you're calling from?"],
            "detail": ["Yes, this one.", "Yes, my mobile."],
            "answer": [
                "Just call one two one from your mobile and follow the prompts to record a greeting; calls will go to voicemail after twenty seconds.",
                "I've reset your voicemail PIN to the last four digits of your number; call one two one and you'll be asked to choose a new one.",
            ],
            "follow": [
                ("Can I get voicemails as text?", "Yes, turn on visual voicemail in the app and messages appear as text."),
                ("Does it cost anything?", "No, listening to voicemail from your mobile is free."),
            ],
            "sec": ("Oh, and how do I set up voicemail?", "Call one two one from your mobile and follow the prompts."),
            "faq": ("How do I set up voicemail?", "Call 121 from your mobile and follow the prompts; the PIN can be reset by us, and visual voicemail is in the app."),
            "summary": "Caller asks about voicemail; agent explains how to set it up or resets the PIN.",
        },
        "zh": {
            "open": [
                "语音信箱怎么设置？别人打给我一直响没人接。",
                "我的语音信箱密码忘了，听不了留言。",
                "我想把语音信箱关掉。",
            ],
            "probe": ["好的，是您现在用的这个手机号吗？"],
            "detail": ["对，就是这个。", "是的。"],
            "answer": [
                "用手机拨打一二一，按提示录制问候语就可以了，来电二十秒没人接就会转到语音信箱。",
                "我已经把语音信箱密码重置为您号码的后四位，拨打一二一后系统会让您设置新密码。",
            ],
            "follow": [
                ("留言能转成文字吗？", "可以，在应用里打开可视语音信箱，留言会显示成文字。"),
                ("收费吗？", "用手机收听语音信箱是免费的。"),
            ],
            "sec": ("另外，语音信箱怎么开通？", "拨打一二一，按提示设置就可以了。"),
            "faq": ("语音信箱怎么设置？", "拨打一二一按提示设置；密码可由客服重置，应用里可开通可视语音信箱。"),
            "summary": "客户咨询语音信箱；客服说明设置方法或重置密码。",
        },
    },
    "international_rates": {
        "en": {
            "open": [
                "How much does it cost to call India from my mobile?",
                "I call my family in Poland a lot, is there a cheaper way to do it?",
                "What are your rates for texting abroad?",
            ],
            "probe": ["Let me check that for you. Which country do you call most?"],
            "detail": ["Mostly India.", "Poland, a few times a week."],
            "answer": [
                "Calls to that country are forty pence a minute on your plan. With the international add on for five pounds a month you get three hundred minutes.",
                "Standard international calls cost forty pence a minute. The world add on gives you three hundred minutes to over fifty countries for five pounds a month.",
            ],
            "follow": [
                ("Can I cancel the add on any time?", "Yes, it's a monthly add on with no contract, you can remove it in the app."),
                ("Does it include calling landlines?", "Yes, landlines and mobiles are both included."),
            ],
            "sec": ("And how much is it to call abroad?", "Forty pence a minute, or three hundred minutes for five pounds with the international add on."),
            "faq": ("How much do international calls cost?", "40p a minute on standard plans; the international add-on gives 300 minutes to 50+ countries for 5 a month, cancel any time."),
            "summary": "Caller asks about international call costs; agent gives the rate and suggests the international add-on.",
        },
        "zh": {
            "open": [
                "从手机打电话到美国多少钱一分钟？",
                "我经常给国外的家人打电话，有没有便宜一点的办法？",
                "往国外发短信怎么收费？",
            ],
            "probe": ["我帮您查一下，您主要打哪个国家？"],
            "detail": ["主要是美国。", "加拿大，一周打好几次。"],
            "answer": [
                "按您的套餐打到那边是每分钟两块九，办一个国际通话包每月三十元，含三百分钟。",
                "普通国际长途每分钟两块九，国际通话包每月三十元，可以打五十多个国家，共三百分钟。",
            ],
            "follow": [
                ("通话包可以随时取消吗？", "可以，按月订购，没有合约，在应用里就能退订。"),
                ("打座机也包括吗？", "包括，座机和手机都可以。"),
            ],
            "sec": ("还有，打国际长途怎么收费？", "每分钟两块九，或者办三十元三百分钟的国际通话包。"),
            "faq": ("国际长途怎么收费？", "普通资费每分钟两块九，国际通话包每月三十元含三百分钟，可随时退订。"),
            "summary": "客户咨询国际长途资费；客服告知价格并推荐国际通话包。",
        },
    },
    "sim_puk_locked": {
        "en": {
            "open": [
                "My phone is asking for a PUK code and I don't know what that is.",
                "I typed the wrong SIM PIN three times and now the SIM is blocked.",
                "My SIM says PUK locked, how do I unlock it?",
            ],
            "probe": ["I can give you the code. Can you confirm the account holder's date of birth?"],
            "detail": ["The twentieth of June, nineteen seventy nine.", "First of March, nineteen ninety five."],
            "answer": [
                "Thanks. Your PUK code is eight digits; I'll text it to your email contact. Enter it, then choose a new PIN. Be careful, ten wrong PUK entries make the SIM unusable.",
                "I've sent your PUK code to the email on your account. Enter it on the phone and it will ask you to set a new SIM PIN.",
            ],
            "follow": [
                ("Can I just turn the SIM PIN off?", "Yes, after you unlock it, go to security settings and switch off SIM PIN."),
                ("What if I enter the PUK wrong?", "After ten wrong attempts the SIM is permanently blocked and you'd need a free replacement."),
            ],
            "sec": ("Oh, and my other phone is asking for a PUK code.", "I've sent that PUK code to your email as well."),
            "faq": ("My SIM is asking for a PUK code, what do I do?", "We send your 8-digit PUK code after a security check; enter it and set a new PIN. Ten wrong PUK entries block the SIM permanently."),
            "summary": "Caller's SIM is PUK locked; agent verifies identity and sends the PUK code.",
        },
        "zh": {
            "open": [
                "我的手机要输入PUK码，我不知道是什么。",
                "SIM卡密码输错三次，现在卡被锁了。",
                "手机卡被锁住了，怎么解锁？",
            ],
            "probe": ["我可以告诉您解锁码，请核对一下机主的出生日期。"],
            "detail": ["一九七九年六月二十号。", "一九九五年三月一号。"],
            "answer": [
                "谢谢，您的PUK码是八位数字，我发到您账户的邮箱里了，输入后再设置新的卡密码。注意输错十次卡就不能用了。",
                "PUK码已经发到您账户绑定的邮箱，在手机上输入后会提示您设置新的卡密码。",
            ],
            "follow": [
                ("能把卡密码关掉吗？", "可以，解锁后在安全设置里关闭SIM卡密码就行。"),
                ("PUK码输错了怎么办？", "输错十次卡会永久锁定，需要免费补一张新卡。"),
            ],
            "sec": ("还有，我另一部手机提示要输PUK码。", "那张卡的PUK码我也发到您邮箱了。"),
            "faq": ("手机提示输入PUK码怎么办？", "核实身份后客服发送八位PUK码，输入后设置新密码；输错十次卡会永久锁定。"),
            "summary": "客户的手机卡被锁；客服核实身份并发送PUK码。",
        },
    },
    "esim_activation": {
        "en": {
            "open": [
                "I'd like to switch to an eSIM on my new phone.",
                "The eSIM QR code you sent me isn't working.",
                "Can I have an eSIM instead of a physical SIM card?",
            ],
            "probe": ["Sure. Which phone model do you have?"],
            "detail": ["It's a new iPhone.", "A Pixel eight."],
            "answer": [
                "That phone supports eSIM. I've emailed you a new QR code; scan it in mobile settings, add eSIM, and your physical SIM will stop working once it's active.",
                "I've cancelled the old QR code and sent a fresh one. Each code works only once, so scan it on the phone you'll keep using.",
            ],
            "follow": [
                ("How long does activation take?", "Usually a few minutes, at most an hour."),
                ("Can I use two numbers on one phone?", "Yes, you can keep a physical SIM and an eSIM side by side."),
            ],
            "sec": ("And could I also move to an eSIM?", "Yes, I've emailed you a QR code to set it up."),
            "faq": ("How do I activate an eSIM?", "We email a QR code; scan it in the phone's mobile settings. Each code works once, and the physical SIM stops when the eSIM is active."),
            "summary": "Caller wants an eSIM or has a QR code problem; agent sends a new QR code and explains activation.",
        },
        "zh": {
            "open": [
                "我的新手机想换成eSIM。",
                "你们发的eSIM二维码扫不了。",
                "能不能不用实体卡，办一个eSIM？",
            ],
            "probe": ["好的，请问您的手机是什么型号？"],
            "detail": ["是新的苹果手机。", "华为的新款。"],
            "answer": [
                "这款手机支持eSIM，我已经把新的二维码发到您邮箱，在移动网络设置里扫描添加，开通后实体卡就失效了。",
                "我已经作废旧的二维码并重新发送了一个，每个二维码只能用一次，请在要长期使用的手机上扫描。",
            ],
            "follow": [
                ("开通要多久？", "一般几分钟，最多一个小时。"),
                ("一部手机能用两个号吗？", "可以，实体卡和eSIM可以同时使用。"),
            ],
            "sec": ("另外，我也想换成eSIM。", "可以，二维码已经发到您的邮箱。"),
            "faq": ("eSIM怎么开通？", "客服将二维码发到邮箱，在手机移动网络设置中扫描，每个二维码只能用一次。"),
            "summary": "客户想办理eSIM或二维码无法使用；客服重新发送二维码并说明开通方法。",
        },
    },
    "spam_calls": {
        "en": {
            "open": [
                "I keep getting nuisance calls from withheld numbers, can you stop them?",
                "I'm getting scam texts pretending to be my bank.",
                "Someone keeps ringing me at night from an unknown number.",
            ],
            "probe": ["That sounds stressful. Is it on your mobile or your landline?"],
            "detail": ["On my mobile.", "Mostly the landline at home."],
            "answer": [
                "I've switched on our free call protect service, which blocks known scam numbers and sends withheld calls to voicemail.",
                "I've turned on the spam filter for your line. You can also forward scam texts to seven seven two six for free so we can block the sender.",
            ],
            "follow": [
                ("Can I block one particular number?", "Yes, in the app under call protect you can add up to a hundred numbers to your block list."),
                ("Should I report it to the police?", "If you've lost money, yes; otherwise reporting it to us is enough."),
            ],
            "sec": ("And I also keep getting spam calls.", "I've turned on call protect to block them."),
            "faq": ("How do I stop nuisance and scam calls?", "Turn on the free call protect service; forward scam texts to 7726 and add numbers to your block list in the app."),
            "summary": "Caller receives nuisance or scam calls; agent turns on call blocking and explains how to report them.",
        },
        "zh": {
            "open": [
                "我老是接到骚扰电话，能帮我屏蔽吗？",
                "我收到冒充银行的诈骗短信。",
                "有个陌生号码半夜一直给我打电话。",
            ],
            "probe": ["这确实让人困扰，是手机还是家里的座机？"],
            "detail": ["手机。", "主要是家里的座机。"],
            "answer": [
                "我已经为您开通了免费的来电防护，会拦截已知的诈骗号码，隐藏号码的来电会转到语音信箱。",
                "已经为您的号码打开了骚扰拦截，诈骗短信也可以免费转发到一二三二一举报。",
            ],
            "follow": [
                ("能单独屏蔽一个号码吗？", "可以，在应用的来电防护里可以加一百个号码到黑名单。"),
                ("要报警吗？", "如果有财产损失请报警，否则向我们举报就可以了。"),
            ],
            "sec": ("另外，我老接到骚扰电话。", "我已经帮您开通了骚扰拦截。"),
            "faq": ("怎么拦截骚扰电话？", "开通免费来电防护，诈骗短信转发到一二三二一举报，并可在应用中设置黑名单。"),
            "summary": "客户受到骚扰或诈骗电话；客服开通拦截并说明举报方式。",
        },
    },
    "paperless_billing": {
        "en": {
            "open": [
                "I'd like to stop getting paper bills in the post.",
                "Can I get my bills by email instead?",
                "Why am I being charged for a paper bill?",
            ],
            "probe": ["Sure. Which email address should we use?"],
            "detail": ["The one on my account is fine.", "Please use my work email, it's on file."],
            "answer": [
                "Done, you're now on paperless billing. Your bills will come by email and in the app, and the two pound paper bill charge stops from next month.",
                "I've switched you to e-billing. You'll get an email each month when your bill is ready, and you won't pay the paper bill fee any more.",
            ],
            "follow": [
                ("Can I still see my old bills?", "Yes, the last eighteen months are in the app under billing."),
                ("What if I need a printed copy once?", "You can download a PDF from the app and print it yourself."),
            ],
            "sec": ("And could you switch me to email bills?", "Done, your bills will come by email from now on."),
            "faq": ("How do I switch to paperless billing?", "Ask us or change it in the app; bills then arrive by email and in the app, and the paper bill fee stops."),
            "summary": "Caller wants bills by email; agent switches the account to paperless billing.",
        },
        "zh": {
            "open": [
                "我不想再收纸质账单了。",
                "账单能不能改成发邮件？",
                "为什么纸质账单还要收费？",
            ],
            "probe": ["好的，账单要发到哪个邮箱？"],
            "detail": ["账户上登记的那个就行。", "用我的工作邮箱，你们有记录。"],
            "answer": [
                "已经帮您改成电子账单了，以后账单通过邮件和应用发送，从下个月起不再收纸质账单费。",
                "已为您开通电子账单，每月账单出来会发邮件通知，纸质账单费也不再收取。",
            ],
            "follow": [
                ("以前的账单还能看吗？", "可以，最近十八个月的账单在应用里都能查到。"),
                ("偶尔需要纸质的怎么办？", "可以在应用里下载PDF自己打印。"),
            ],
            "sec": ("还有，账单能改成电子版吗？", "已经改好了，以后账单发到您邮箱。"),
            "faq": ("怎么开通电子账单？", "致电或在应用中修改，开通后账单通过邮件和应用发送，不再收纸质账单费。"),
            "summary": "客户想改为电子账单；客服为其开通电子账单。",
        },
    },
    "store_complaint": {
        "en": {
            "open": [
                "I want to complain about how I was treated in your store yesterday.",
                "The staff at your shop were really rude to me.",
                "I waited over an hour in the store and nobody helped me.",
            ],
            "probe": ["I'm very sorry to hear that. Which store was it, and when?"],
            "detail": ["The Market Street store, yesterday afternoon.", "The one in the retail park, on Saturday."],
            "answer": [
                "I've logged a formal complaint with the store manager. They'll review it and call you back within five working days.",
                "That's not the service we expect. I've passed your complaint to the regional manager, who will contact you within five working days, and I've added a ten pound credit as an apology.",
            ],
            "follow": [
                ("Will the staff member be told?", "The manager will discuss it with the team; we don't share the outcome of staff reviews, but it will be followed up."),
                ("Can I get a reference number?", "Yes, I'll text you the complaint reference now."),
            ],
            "sec": ("And I also want to complain about the staff in your store.", "I've logged a complaint, the manager will call you within five working days."),
            "faq": ("How do I make a complaint about a store?", "Call us with the store and date; a formal complaint goes to the manager, who replies within five working days, and you get a reference number by text."),
            "summary": "Caller complains about service in a store; agent logs a formal complaint and promises a call back.",
        },
        "zh": {
            "open": [
                "我要投诉你们营业厅昨天的服务态度。",
                "你们门店的店员对我很不礼貌。",
                "我在营业厅等了一个多小时都没人理我。",
            ],
            "probe": ["非常抱歉，请问是哪家门店，什么时候？"],
            "detail": ["人民路那家，昨天下午。", "商业广场那家，周六。"],
            "answer": [
                "我已经把您的投诉正式提交给门店经理，他们会核实后在五个工作日内给您回电。",
                "这不是我们应有的服务水平，我已经把投诉转给区域经理，五个工作日内联系您，另外给您账户补偿二十元话费表示歉意。",
            ],
            "follow": [
                ("那个店员会被处理吗？", "经理会和团队沟通，处理结果不方便透露，但一定会跟进。"),
                ("有投诉编号吗？", "有的，我现在短信发给您。"),
            ],
            "sec": ("另外，我还要投诉一下门店的服务。", "我已经登记投诉，经理五个工作日内会回电。"),
            "faq": ("怎么投诉门店服务？", "提供门店和时间，客服正式登记投诉，经理五个工作日内回复，并短信发送投诉编号。"),
            "summary": "客户投诉门店服务；客服登记投诉并承诺回电。",
        },
    },
    "add_line": {
        "en": {
            "open": [
                "I want to add a second line to my account for my daughter.",
                "Can I get another SIM on my plan for my husband?",
                "Do you do family plans? I'd like to add two more phones.",
            ],
            "probe": ["Lovely. Would the new line be SIM only, or with a phone?"],
            "detail": ["Just a SIM, she has a phone already.", "SIM only, please."],
            "answer": [
                "Additional lines get twenty percent off. A SIM only line with ten gigabytes is eight pounds a month, and the SIM will arrive in one to two days.",
                "I've added the line to your account. It shares your billing, gets the family discount of twenty percent, and the SIM is on its way.",
            ],
            "follow": [
                ("Can I set a spending limit on her line?", "Yes, you can set a monthly cap for each line in the app."),
                ("Will she get her own number?", "Yes, each line has its own number, or she can bring her existing one."),
            ],
            "sec": ("And can I add a line for my son while I'm at it?", "Yes, I've added a SIM only line with the family discount."),
            "faq": ("Can I add another line to my account?", "Yes, additional lines get 20% off and share your billing; SIM-only lines arrive in 1-2 days, with a spending cap per line in the app."),
            "summary": "Caller wants to add a family line; agent adds it with the multi-line discount.",
        },
        "zh": {
            "open": [
                "我想在我的账户下给女儿加一张副卡。",
                "能不能给我爱人在我的套餐里加一个号？",
                "你们有家庭套餐吗？我想再加两部手机。",
            ],
            "probe": ["好的，新号码只要卡，还是连手机一起？"],
            "detail": ["只要卡，她有手机。", "只要电话卡就行。"],
            "answer": [
                "副卡可以享受八折优惠，十个G的纯卡套餐每月二十八元，卡一到两天寄到。",
                "已经给您的账户加上了副卡，账单合并，享受家庭八折优惠，卡已经在寄出的路上了。",
            ],
            "follow": [
                ("能给副卡设消费上限吗？", "可以，在应用里可以给每张卡设置每月上限。"),
                ("副卡有自己的号码吗？", "有的，每张卡都有独立号码，也可以携号转入。"),
            ],
            "sec": ("另外，我想顺便给儿子加一张副卡。", "已经帮您加了一张享受家庭优惠的副卡。"),
            "faq": ("怎么办理副卡？", "副卡享受八折、账单合并，纯卡一到两天寄到，可在应用中设置每卡消费上限。"),
            "summary": "客户想办理家庭副卡；客服添加副卡并给予家庭优惠。",
        },
    },
    "parental_controls": {
        "en": {
            "open": [
                "How can I stop my son from accessing adult websites on his phone?",
                "I'd like to set up parental controls on the home broadband.",
                "Can I limit the time my kids spend online?",
            ],
            "probe": ["Of course. Is it for a mobile line or the home wifi?"],
            "detail": ["His mobile, it's on my account.", "The home wifi."],
            "answer": [
                "Content lock is now on for that line, which blocks over eighteen content. You can manage it in the app under family settings.",
                "In the app under family settings you can filter websites and set bedtime hours for each device on the home wifi. It's free.",
            ],
            "follow": [
                ("Can he turn it off himself?", "No, only the account holder can change it, with your password."),
                ("Does it work on his friends' wifi?", "Content lock on the mobile line only works on mobile data; for other wifi you'd need settings on the phone itself."),
            ],
            "sec": ("Oh, and can you turn on parental controls for my daughter's phone?", "I've switched on content lock for her line."),
            "faq": ("How do I set up parental controls?", "Content lock blocks 18+ content on mobile lines; home wifi filters and bedtime hours are in the app's family settings, free, changeable only by the account holder."),
            "summary": "Caller wants parental controls; agent turns on content lock and explains the family settings.",
        },
        "zh": {
            "open": [
                "怎么让孩子的手机上不了不良网站？",
                "我想给家里的宽带设置家长控制。",
                "能不能限制孩子每天上网的时间？",
            ],
            "probe": ["当然可以，是手机号还是家里的无线网？"],
            "detail": ["他的手机，在我的账户下。", "家里的无线网。"],
            "answer": [
                "已经为这个号码开启了内容过滤，会屏蔽不适合未成年人的内容，可以在应用的家庭设置里管理。",
                "在应用的家庭设置里可以给家里每个设备设置网站过滤和断网时间，免费使用。",
            ],
            "follow": [
                ("孩子自己能关掉吗？", "不能，只有机主用密码才能修改。"),
                ("在同学家的无线网也有效吗？", "手机号的过滤只对移动数据有效，连别的无线网需要在手机上单独设置。"),
            ],
            "sec": ("另外，能给我女儿的手机开家长控制吗？", "已经为她的号码开启了内容过滤。"),
            "faq": ("怎么设置家长控制？", "手机号可开启内容过滤，家庭宽带可在应用家庭设置中设置网站过滤和断网时间，仅机主可修改。"),
            "summary": "客户想设置家长控制；客服开启内容过滤并介绍家庭设置。",
        },
    },
}

# Calls with no clear issue: wrong numbers, callers who hang up, vague call-backs.
NO_ISSUE = {
    "en": [
        [("caller", "Hello? Oh, sorry, I think I've dialled the wrong number. I was trying to reach the doctor's surgery."),
         ("agent", "No problem at all, this is Brightwave customer service."), ("caller", "Sorry about that, bye.")],
        [("caller", "Hi, I got a missed call from this number and I'm just calling back."),
         ("agent", "I can't see any notes on your account, it may have been a courtesy call. Is there anything I can help with?"),
         ("caller", "No, that's fine then, thanks.")],
        [("caller", "Hello, yes, um, I was going to ask something but my wife has just sorted it. Sorry to bother you."),
         ("agent", "Not at all, feel free to call back any time."), ("caller", "Thank you, bye.")],
        [("caller", "Can you hear me? Hello? The line is very quiet."),
         ("agent", "Yes, I can hear you. How can I help?"), ("caller", "Sorry, I'm on the train, I'll call back later.")],
    ],
    "zh": [
        [("caller", "喂？不好意思，我好像打错电话了，我要找的是医院。"),
         ("agent", "没关系，这里是光澜通信客服。"), ("caller", "抱歉打扰了，再见。")],
        [("caller", "你好，刚才有个未接来电是这个号码，我回拨一下。"),
         ("agent", "您的账户没有相关记录，可能是回访电话。还有什么可以帮您吗？"), ("caller", "那没事了，谢谢。")],
        [("caller", "喂，我本来想问点事，我家人已经帮我弄好了，不好意思。"),
         ("agent", "没关系，有需要随时来电。"), ("caller", "好的，谢谢，再见。")],
    ],
}
