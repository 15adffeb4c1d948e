#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Text saved in GB18030, the encoding Excel on a Chinese Windows writes when a sheet is saved
/// as plain "CSV" (not "CSV UTF-8"); GB18030 contains GBK and GB2312. Decoded with the C
/// library's iconv (Foundation on Linux has no GB18030 decoder). Nil for bytes that are not
/// GB18030.
public enum LegacyChineseText {
    public static func decode(_ bytes: [UInt8]) -> String? {
        let converter = iconv_open("UTF-8", "GB18030")
        guard converter != iconv_t(bitPattern: -1) else { return nil }
        defer { iconv_close(converter) }
        var input = bytes.map { CChar(bitPattern: $0) }
        // A GB18030 character of n bytes is at most 1.5 n bytes of UTF-8.
        var output = [CChar](repeating: 0, count: bytes.count * 2 + 4)
        let produced: Int? = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                var inPointer = inBuffer.baseAddress
                var inLeft = inBuffer.count
                var outPointer = outBuffer.baseAddress
                var outLeft = outBuffer.count
                // -1: an invalid or incomplete sequence; inLeft > 0 likewise.
                guard iconv(converter, &inPointer, &inLeft, &outPointer, &outLeft) != -1, inLeft == 0 else { return nil }
                return outBuffer.count - outLeft
            }
        }
        guard let produced else { return nil }
        return String(validating: output[..<produced].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
