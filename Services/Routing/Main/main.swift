import Routing
import KefuCore

KefuServiceMain.useEventLoopsAsGlobalExecutor()
await KefuServiceMain.run(RoutingService.self)
