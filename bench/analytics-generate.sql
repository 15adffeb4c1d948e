-- Generates conversations :lo to :hi of the analytics bench tenant through the consumer's own
-- function (analytics.apply_events), with the payloads routing publishes: conversation.created,
-- .assigned, :messages_avg messages on average (visitor and agent in turn), .ended, and a rating
-- for every third. Conversation n starts (365 days × n / :total) ago, so :total conversations
-- spread over a year; it goes to agent n mod 200. One message in 997 says 我要投诉 (the text the
-- search is measured with). Ids are md5-derived, so the lag probe (bench/analytics.py) can name them.
BEGIN;
SELECT set_config('kefu.tenant_id', :'tenant', true);
SELECT sum(analytics.apply_events(g.types, g.payloads)) FROM (
    SELECT array['conversation.created', 'conversation.assigned'] || array_fill('message.created'::text, ARRAY[b.m])
               || array['conversation.ended'] || CASE WHEN b.n % 3 = 0 THEN array['satisfaction.rated'] ELSE '{}'::text[] END AS types,
           array[
               jsonb_build_object('conversation_id', b.cid, 'visitor_id', b.vid, 'widget_id', b.wid, 'channel', b.channel, 'created_at', b.t0),
               jsonb_build_object('conversation_id', b.cid, 'agent_id', b.aid, 'group_id', b.gid, 'reason', 'widget', 'assigned_at', b.t0 + interval '2 seconds')
           ] || ARRAY(
               SELECT jsonb_build_object('conversation_id', b.cid, 'message_id', md5(b.cid::text || k)::uuid, 'seq', k,
                   'sender', CASE WHEN k % 2 = 1 THEN 'visitor' ELSE 'agent' END, 'sender_id', CASE WHEN k % 2 = 0 THEN b.aid END,
                   'automatic', false, 'created_at', b.t0 + k * interval '15 seconds' + CASE WHEN k % 2 = 0 THEN (b.n % 40) * interval '1 second' ELSE interval '0' END,
                   'body', jsonb_build_object('type', 'text', 'text',
                       CASE WHEN (b.n * 7 + k) % 997 = 0 THEN '您好，我要投诉这个订单 ' || b.n
                            ELSE (ARRAY['你好，请问在吗', '我想查询一下物流信息', '订单号是 ' || b.n || '，什么时候发货', '好的，马上为您处理',
                                        '请问还有其他问题吗', '可以开发票吗', '谢谢，再见', '这个商品有优惠吗'])[1 + (b.n + k) % 8] END)
               ) FROM generate_series(1, b.m) k
           ) || array[jsonb_build_object('conversation_id', b.cid, 'reason', 'agent', 'agent_id', b.aid, 'ended_at', b.t0 + (b.m + 2) * interval '15 seconds')]
             || CASE WHEN b.n % 3 = 0 THEN array[jsonb_build_object('conversation_id', b.cid, 'agent_id', b.aid, 'stars', 1 + b.n % 5,
                    'labels', CASE WHEN b.n % 5 >= 3 THEN '["专业","耐心"]'::jsonb ELSE '["慢"]'::jsonb END, 'solved', b.n % 2 = 0,
                    'rated_at', b.t0 + (b.m + 3) * interval '15 seconds')] ELSE '{}'::jsonb[] END AS payloads
    FROM (
        SELECT n, md5('c' || n)::uuid AS cid, md5('v' || (n % (:total / 3 + 1)))::uuid AS vid, md5('w' || n % 5)::uuid AS wid,
               (ARRAY['web', 'web', 'wechat_official_account', 'mini_program'])[1 + n % 4] AS channel,
               md5('a' || n % 200)::uuid AS aid, md5('g' || n % 10)::uuid AS gid,
               now() - interval '365 days' * (n::float8 / :total) AS t0,
               (:messages_avg - 4) + n % 9 AS m
        FROM generate_series(:lo::int, :hi::int) n
    ) b
) g;
COMMIT;
