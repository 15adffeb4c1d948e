-- wrk script: every request signs in the demo agent (bcrypt verify + sessions written).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"tenant":"demo","account":"agent1","password":"Demo12345"}'
