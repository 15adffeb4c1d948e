import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The whole `main` of every `kefu-<service>` executable:
///   kefu-<service>            migrate, then serve until SIGTERM/SIGINT (graceful: in-flight requests finish)
///   kefu-<service> migrate    apply this service's migrations and exit
public enum KefuServiceMain {
    /// Runs Swift concurrency's jobs on NIO's event loops, so that awaiting a database answer or
    /// a socket does not hop between two thread pools (measured in `make bench`). Call first
    /// thing in `main`, on the main thread, once.
    public static func useEventLoopsAsGlobalExecutor() {
        #if os(Linux)
        // Two malloc arenas, not glibc's eight per core: every thread that allocates would
        // otherwise get an arena of its own, and idle routing sat at 42 MB resident against a
        // 40 MB goal (38.6 MB with two, same bench run otherwise). Set before the threads start.
        _ = glibcMallopt(-8 /* M_ARENA_MAX, malloc.h */, 2)
        #endif
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }

    public static func run<S: KefuServiceDefinition>(_ service: S.Type) async {
        let config = KefuConfig(service: S.name)
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: config.logLevel) }
        let logger = Logger(label: "kefu-\(S.name.rawValue)")
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            switch arguments.first {
            case nil, "serve":
                let application = try await buildApplication(S.self, config: config, logger: logger)
                var group = ServiceGroupConfiguration(services: [application], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
                // A graceful stop lets requests, event batches and webhook attempts finish (each
                // bounded well below this); should anything still hang, the process is cancelled
                // and then ends all the same, rather than waiting for a SIGKILL (seen once: an
                // accounts process that never finished its graceful shutdown, with no socket open).
                group.maximumGracefulShutdownDuration = .seconds(60)
                group.maximumCancellationDuration = .seconds(10)
                try await ServiceGroup(configuration: group).run()
            case "migrate":
                let applied = try await Migrator(
                    url: try DatabaseURL(config.migrationDatabaseURL), schemaDirectory: config.schemaDirectory, logger: logger
                ).migrate(scopes: S.migrationScopes)
                logger.info("migrations up to date", metadata: ["applied_now": "\(applied.count)"])
            case "-h", "--help", "help":
                print("usage: kefu-\(S.name.rawValue) [serve|migrate]\nConfiguration comes from KEFU_* environment variables; see README.md.")
            default:
                print("unknown command \(arguments[0]); try --help")
                exit(64)
            }
        } catch {
            logger.critical("kefu-\(S.name.rawValue) stopped", metadata: ["error": "\(String(reflecting: error))"])
            exit(1)
        }
    }
}

#if os(Linux)
/// glibc's `mallopt` (malloc.h, which the Glibc module does not bring in).
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
