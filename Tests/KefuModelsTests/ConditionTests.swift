import Foundation
import KefuModels
import Testing

@Suite struct ConditionTests {
    let catalogue = FieldCatalogue.with(customFields: [
        FieldDefinition(key: "level", type: .singleChoice, choices: ["gold", "silver"]),
        FieldDefinition(key: "interests", type: .multiChoice),
    ])

    func compile(_ join: ConditionSet.Join, _ conditions: [Condition]) throws -> CompiledConditions {
        try catalogue.compile(ConditionSet(join: join, conditions: conditions))
    }

    func compile(_ conditions: [Condition]) throws -> CompiledConditions {
        try compile(.all, conditions)
    }

    func facts(_ values: [String: ConditionFacts.Value]) -> ConditionFacts {
        var facts = ConditionFacts(catalogue: catalogue)
        for (key, value) in values { facts.set(key, value) }
        return facts
    }

    @Test func decodesTheJSONRulesAreWrittenIn() throws {
        let json = #"{"join":"any","conditions":[{"field":"customer.tags","op":"contains_any","value":["VIP","Returning"]},{"field":"visitor.visit_count","op":"between","value":[3,10]},{"field":"customer.remark","op":"is_empty"}]}"#
        let set = try JSONDecoder().decode(ConditionSet.self, from: Data(json.utf8))
        #expect(set.join == .any)
        #expect(set.conditions[1].value == .list([.number(3), .number(10)]))
        #expect(set.conditions[2].value == nil)
        _ = try catalogue.compile(set)
    }

    @Test func textIsComparedWithoutCase() throws {
        let rule = try compile([Condition(field: "visitor.region", op: .equals, value: .string("Shanghai"))])
        #expect(rule.matches(facts(["visitor.region": .text("SHANGHAI")])))
        #expect(!rule.matches(facts(["visitor.region": .text("Beijing")])))
        let url = try compile([Condition(field: "visitor.page_url", op: .contains, value: .string("/pricing"))])
        #expect(url.matches(facts(["visitor.page_url": .text("https://shop.example/Pricing?x=1")])))
    }

    @Test func allAndAnyJoinConditions() throws {
        let conditions = [
            Condition(field: "customer.tags", op: .containsAny, value: .list([.string("vip")])),
            Condition(field: "visitor.visit_count", op: .greaterOrEqual, value: .number(3)),
        ]
        let vip = facts(["customer.tags": .set(["VIP"]), "visitor.visit_count": .number(1)])
        #expect(!(try compile(.all, conditions)).matches(vip))
        #expect((try compile(.any, conditions)).matches(vip))
        #expect((try compile(.all, conditions)).explain(vip) == [true, false])
        #expect((try compile(.all, [])).matches(vip), "no conditions: applies to everyone")
    }

    @Test func numbersDatesAndTimesCompareByTheirType() throws {
        let adult = try compile([Condition(field: "customer.age", op: .between, value: .list([.number(18), .number(65)]))])
        #expect(adult.matches(facts(["customer.age": .number(18)])))
        #expect(!adult.matches(facts(["customer.age": .number(17.5)])))
        let night = try compile([Condition(field: "visitor.visit_time", op: .between, value: .list([.string("22:00"), .string("06:00")]))])
        #expect(night.matches(facts(["visitor.visit_time": .timeOfDay(23 * 60)])))
        #expect(night.matches(facts(["visitor.visit_time": .timeOfDay(5 * 60)])))
        #expect(!night.matches(facts(["visitor.visit_time": .timeOfDay(12 * 60)])))
        let recent = try compile([Condition(field: "customer.date_added", op: .after, value: .string("2026-11-01T00:00:00Z"))])
        #expect(recent.matches(facts(["customer.date_added": .date(Date(timeIntervalSince1970: 1_796_000_000))])))
        let born = try compile([Condition(field: "customer.birthday", op: .equals, value: .string("1990-05-04"))])
        let birthday = try Date.ISO8601FormatStyle().year().month().day().parse("1990-05-04").addingTimeInterval(3600)
        #expect(born.matches(facts(["customer.birthday": .date(birthday)])), "dates compare by day")
    }

    @Test func missingValuesAreEmpty() throws {
        let nothing = facts([:])
        #expect(try compile([Condition(field: "customer.remark", op: .isEmpty)]).matches(nothing))
        #expect(try compile([Condition(field: "customer.tags", op: .containsNone, value: .list([.string("blocked")]))]).matches(nothing))
        #expect(try compile([Condition(field: "visitor.region", op: .notEquals, value: .string("x"))]).matches(nothing))
        #expect(!(try compile([Condition(field: "visitor.region", op: .equals, value: .string("x"))]).matches(nothing)))
        #expect(!(try compile([Condition(field: "customer.age", op: .lessThan, value: .number(30))]).matches(nothing)))
    }

    @Test func customFieldsAreTestedByTheirAPIName() throws {
        let gold = try compile([
            Condition(field: "custom.level", op: .in, value: .list([.string("gold")])),
            Condition(field: "custom.interests", op: .containsAll, value: .list([.string("shoes"), .string("bags")])),
        ])
        #expect(gold.matches(facts(["custom.level": .text("gold"), "custom.interests": .set(["Shoes", "Bags", "Hats"])])))
        #expect(!gold.matches(facts(["custom.level": .text("gold"), "custom.interests": .set(["Shoes"])])))
    }

    @Test func invalidConditionsAreReportedWithTheirPath() {
        let set = ConditionSet(join: .all, conditions: [
            Condition(field: "visitor.shoe_size", op: .equals, value: .number(42)),
            Condition(field: "customer.age", op: .contains, value: .string("3")),
            Condition(field: "customer.age", op: .greaterThan, value: .string("thirty")),
            Condition(field: "custom.level", op: .equals, value: .string("platinum")),
            Condition(field: "customer.birthday", op: .before, value: .string("yesterday")),
            Condition(field: "visitor.visit_count", op: .between, value: .list([.number(10), .number(3)])),
            Condition(field: "customer.remark", op: .isEmpty, value: .string("x")),
            Condition(field: "customer.tags", op: .containsAny, value: .list([])),
            Condition(field: "visitor.region", op: .equals),
        ])
        #expect(throws: InvalidConditions.self) { try catalogue.compile(set) }
        do {
            _ = try catalogue.compile(set, path: "conditions")
        } catch {
            #expect(error.issues.map(\.path) == [
                "conditions[0].field", "conditions[1].op", "conditions[2].value", "conditions[3].value", "conditions[4].value",
                "conditions[5].value", "conditions[6].value", "conditions[7].value", "conditions[8].value",
            ])
            #expect(error.issues[0].code == "unknown_field")
            #expect(error.issues[1].code == "wrong_operator")
            #expect(error.issues[1].message.contains("greater_than"))
        }
        let tooMany = ConditionSet(join: .any, conditions: Array(repeating: Condition(field: "customer.remark", op: .isEmpty), count: 21))
        #expect(throws: InvalidConditions.self) { try catalogue.compile(tooMany) }
    }
}
