import Customers
import KefuCore

await KefuServiceMain.run(CustomersService.self)
