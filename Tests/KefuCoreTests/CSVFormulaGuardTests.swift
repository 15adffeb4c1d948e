import KefuCore
import Testing

/// Exported cells a spreadsheet would run as formulas are prefixed with `'`; an import of the
/// file undoes exactly that prefix and nothing else.
@Suite struct CSVFormulaGuardTests {
    @Test func everyFormulaStartIsGuardedAndTheGuardIsUndoneOnImport() throws {
        let cells = ["=1+1", "+86 138", "-2", "@SUM(A1)", "\t=1+1", "\r=1+1", "\r\n=1+1", "plain", "'quoted", "中文=1"]
        let line = CSV.line(cells)
        let parsed = try #require(try CSV.parse(line).first?.fields)
        #expect(parsed == ["'=1+1", "'+86 138", "'-2", "'@SUM(A1)", "'\t=1+1", "'\r=1+1", "'\r\n=1+1", "plain", "'quoted", "中文=1"])
        #expect(parsed.map(CSVSheet.unescapeFormula) == cells)
    }
}
