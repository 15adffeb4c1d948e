import Reception
import KefuCore

KefuServiceMain.useEventLoopsAsGlobalExecutor()
await KefuServiceMain.run(ReceptionService.self)
