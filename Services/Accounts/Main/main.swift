import Accounts
import KefuCore

await KefuServiceMain.run(AccountsService.self)
