import Analytics
import KefuCore

KefuServiceMain.useEventLoopsAsGlobalExecutor()
await KefuServiceMain.run(AnalyticsService.self)
