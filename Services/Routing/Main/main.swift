import Routing
import KefuCore

await KefuServiceMain.run(RoutingService.self)
