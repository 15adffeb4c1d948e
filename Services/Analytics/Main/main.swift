import Analytics
import KefuCore

await KefuServiceMain.run(AnalyticsService.self)
