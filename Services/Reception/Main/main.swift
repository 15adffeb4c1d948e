import Reception
import KefuCore

await KefuServiceMain.run(ReceptionService.self)
