import Accounts
import KefuCore

KefuServiceMain.useEventLoopsAsGlobalExecutor()
await KefuServiceMain.run(AccountsService.self)
