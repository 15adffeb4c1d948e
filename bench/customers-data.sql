-- The customer bench's data set (bench/customers.py): :count customers of tenant :tenant, rows
-- :first to :first + :count - 1, shaped like a real library's — Chinese names (a common surname
-- and one or two given characters), mobile numbers, regions, follow-up statuses and funnel
-- stages, tags, remarks, owners, a reception history for most, and the five custom fields the
-- bench defines (through the API) filled. Run as the serving role inside the tenant's
-- transaction (row-level security holds; the write triggers of the table run as for any write).
BEGIN;
SELECT set_config('kefu.tenant_id', :'tenant', true) \gset
INSERT INTO customers.customers (tenant_id, id, entered, entered_at, name, gender, age, region, company, phones, search_phones,
    emails, tags, remark, source, follow_up_status, funnel_stage, custom, owner_id, reception_count, last_reception_at,
    visit_count, created_at, updated_at)
SELECT :'tenant'::uuid, gen_random_uuid(), true, created, name, gender, age, region, company, ARRAY[phone], phone,
    ARRAY['c' || n || '@example.com'], tags, remark, source, follow_up, funnel, custom, owner, receptions,
    CASE WHEN receptions > 0 THEN created + (n % 300) * interval '1 hour' END, receptions * 2, created, created
FROM (
    SELECT n,
        (string_to_array('王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 高 林 罗 郑 梁 谢 宋 唐 许 韩 冯 邓 曹 彭 曾 肖 田 董 袁 潘 于 蒋 蔡 余 杜 叶 程 苏 魏 吕 丁 任 沈', ' '))[1 + abs(hashint8(n)) % 50]
        || (string_to_array('伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀 霞 平 刚 桂 英 华 玉 兰 萍 红 鹏 辉 建 国 文 斌 宇 浩 凯 健 俊 帆 欣 怡 佳 琪 雪 梅 琳 晨 阳 海', ' '))[1 + abs(hashint8(-n)) % 50]
        || CASE WHEN n % 3 = 0 THEN '' ELSE (string_to_array('一 二 三 华 明 亮 平 安 荣 新 春 云 飞 龙 凤 成 林 山 清 波', ' '))[1 + abs(hashint8(n + 7777777)) % 20] END AS name,
        (ARRAY['male', 'female', 'unknown'])[1 + n % 3] AS gender,
        18 + n % 60 AS age,
        (ARRAY['北京', '上海', '广州', '深圳', '杭州', '成都', '武汉', '南京', '西安', '重庆'])[1 + (n / 7) % 10] AS region,
        '公司' || (n % 5000) AS company,
        '1' || (30 + n % 60) || lpad(((n::bigint * 2654435761) % 100000000)::text, 8, '0') AS phone,
        CASE WHEN n % 4 = 0 THEN ARRAY['vip'] WHEN n % 4 = 1 THEN ARRAY['new', '活动'] ELSE '{}'::text[] END AS tags,
        CASE WHEN n % 10 = 0 THEN '老客户，来自展会 ' || n ELSE NULL END AS remark,
        (ARRAY['web', 'wechat', 'ad_campaign', 'import'])[1 + n % 4] AS source,
        (ARRAY['to_follow_up', 'in_progress', 'done'])[1 + (n / 3) % 3] AS follow_up,
        (ARRAY['initial_contact', 'interested', 'order_submitted', 'deal_closed'])[1 + (n / 5) % 4] AS funnel,
        jsonb_build_object(
            'budget', (n * 37) % 100000,
            'level', (ARRAY['gold', 'silver', 'bronze'])[1 + (n / 11) % 3],
            'contract_day', to_char(date '2024-01-01' + (n % 900)::integer, 'YYYY-MM-DD'),
            'wechat_name', '微信' || n,
            'interests', CASE WHEN n % 2 = 0 THEN '["sports", "travel"]'::jsonb ELSE '["books"]'::jsonb END
        ) AS custom,
        CASE WHEN n % 5 = 0 THEN NULL ELSE (ARRAY[:'owner1', :'owner2', :'owner3'])[1 + n % 3]::uuid END AS owner,
        CASE WHEN n % 10 < 7 THEN 1 + n % 9 ELSE 0 END AS receptions,
        timestamptz '2025-01-01 00:00:00+00' + n * interval '20 seconds' AS created
    FROM generate_series(:first::bigint, :first::bigint + :count - 1) AS n
) AS generated;
COMMIT;
