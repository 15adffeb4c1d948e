import Customers
import KefuCore

KefuServiceMain.useEventLoopsAsGlobalExecutor()
await KefuServiceMain.run(CustomersService.self)
