import Foundation
import KefuCore
import KefuModels

/// The profile fields of a customer as a request writes them (POST: every field optional but the
/// name; PATCH: absent keeps, null clears). `validated(over:)` checks every field at once and
/// gives the whole new profile, so create and update write the same columns the same way.
struct ProfileInput: Decodable, Sendable {
    struct ContactInput: Decodable, Sendable {
        let value: String
        let primary: Bool?
    }

    var name: PatchField<String> = .absent
    var gender: PatchField<String> = .absent
    var age: PatchField<Int> = .absent
    var birthday: PatchField<String> = .absent
    var education: PatchField<String> = .absent
    var region: PatchField<String> = .absent
    var address: PatchField<String> = .absent
    var company: PatchField<String> = .absent
    var title: PatchField<String> = .absent
    var phones: PatchField<[ContactInput]> = .absent
    var emails: PatchField<[ContactInput]> = .absent
    var status: PatchField<String> = .absent
    var tags: PatchField<[String]> = .absent
    var remark: PatchField<String> = .absent
    var source: PatchField<String> = .absent
    var followUpStatus: PatchField<String> = .absent
    var funnelStage: PatchField<String> = .absent
    var customFields: PatchField<[String: JSONValue]> = .absent

    enum CodingKeys: String, CodingKey {
        case name, gender, age, birthday, education, region, address, company, title, phones, emails, status, tags, remark,
             source, followUpStatus, funnelStage, customFields
    }

    init() {}

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodePatch(String.self, forKey: .name)
        gender = try c.decodePatch(String.self, forKey: .gender)
        age = try c.decodePatch(Int.self, forKey: .age)
        birthday = try c.decodePatch(String.self, forKey: .birthday)
        education = try c.decodePatch(String.self, forKey: .education)
        region = try c.decodePatch(String.self, forKey: .region)
        address = try c.decodePatch(String.self, forKey: .address)
        company = try c.decodePatch(String.self, forKey: .company)
        title = try c.decodePatch(String.self, forKey: .title)
        phones = try c.decodePatch([ContactInput].self, forKey: .phones)
        emails = try c.decodePatch([ContactInput].self, forKey: .emails)
        status = try c.decodePatch(String.self, forKey: .status)
        tags = try c.decodePatch([String].self, forKey: .tags)
        remark = try c.decodePatch(String.self, forKey: .remark)
        source = try c.decodePatch(String.self, forKey: .source)
        followUpStatus = try c.decodePatch(String.self, forKey: .followUpStatus)
        funnelStage = try c.decodePatch(String.self, forKey: .funnelStage)
        customFields = try c.decodePatch([String: JSONValue].self, forKey: .customFields)
    }

    /// The API names of the fields this request sets or clears (the update event names them).
    var presentFields: [String] {
        var names: [String] = []
        func note<V>(_ field: PatchField<V>, _ name: String) { if field.isPresent { names.append(name) } }
        note(name, "name"); note(gender, "gender"); note(age, "age"); note(birthday, "birthday"); note(education, "education")
        note(region, "region"); note(address, "address"); note(company, "company"); note(title, "title"); note(phones, "phones")
        note(emails, "emails"); note(status, "status"); note(tags, "tags"); note(remark, "remark"); note(source, "source")
        note(followUpStatus, "follow_up_status"); note(funnelStage, "funnel_stage")
        if let custom = customFields.value { names += custom.keys.sorted().map { "custom.\($0)" } }
        return names
    }
}

/// A customer's whole profile after validation: what the INSERT or UPDATE writes.
struct Profile: Codable, Sendable {
    var name: String?
    var gender: String?
    var age: Int?
    var birthday: String?
    var education: String?
    var region: String?
    var address: String?
    var company: String?
    var title: String?
    var phones: [String] = []
    var emails: [String] = []
    var status: String?
    var tags: [String] = []
    var remark: String?
    var source: String?
    var followUpStatus: String?
    var funnelStage: String?
    var custom: [String: JSONValue] = [:]

    init() {}

    init(_ view: CustomerView) {
        name = view.name; gender = view.gender; age = view.age; birthday = view.birthday; education = view.education
        region = view.region; address = view.address; company = view.company; title = view.title
        phones = view.phones.map(\.value); emails = view.emails.map(\.value); status = view.status; tags = view.tags
        remark = view.remark; source = view.source; followUpStatus = view.followUpStatus; funnelStage = view.funnelStage
        custom = view.customFields
    }

    static let genders: Set<String> = ["male", "female", "unknown"]

    /// Applies `input` over `self`, recording every invalid field in `v`. An empty string clears an
    /// optional text field, as null does; the name cannot be cleared. Custom field values are
    /// checked against the tenant's definitions afterwards (`customValues`).
    mutating func apply(_ input: ProfileInput, _ v: inout Validation, settings: LibrarySettings) {
        if case .null = input.name { v.add("name", "cannot be cleared", code: "required") }
        if let given = input.name.value { name = v.text(given, "name", length: 1...100) ?? name }
        func text(_ field: PatchField<String>, _ key: String, _ limit: Int, _ current: String?) -> String? {
            guard field.isPresent else { return current }
            return v.text(field.value, key, length: 1...limit, optional: true)
        }
        func choice(_ field: PatchField<String>, _ key: String, _ allowed: Set<String>, _ current: String?) -> String? {
            guard field.isPresent else { return current }
            guard let value = field.value else { return nil }
            v.check(allowed.contains(value), key, "must be one of \(allowed.sorted().joined(separator: ", "))", code: "invalid_choice")
            return value
        }
        gender = choice(input.gender, "gender", Self.genders, gender)
        if input.age.isPresent {
            age = input.age.value
            if let age { v.check((0...150).contains(age), "age", "must be from 0 to 150", code: "out_of_range") }
        }
        if input.birthday.isPresent {
            birthday = input.birthday.value
            if let birthday { v.check(Self.isDay(birthday), "birthday", "must be a date YYYY-MM-DD", code: "invalid_date") }
        }
        education = text(input.education, "education", 50, education)
        region = text(input.region, "region", 100, region)
        address = text(input.address, "address", 200, address)
        company = text(input.company, "company", 100, company)
        title = text(input.title, "title", 100, title)
        if input.phones.isPresent {
            phones = Self.contacts(input.phones.value ?? [], "phones", &v) { value in
                value.count >= 3 && value.count <= 32 && value.allSatisfy { $0.isNumber || "+-() ".contains($0) }
                    && value.contains { $0.isNumber }
            }
        }
        if input.emails.isPresent {
            emails = Self.contacts(input.emails.value ?? [], "emails", &v) { value in
                let parts = value.split(separator: "@", omittingEmptySubsequences: false)
                return value.count <= 254 && parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !value.contains(" ")
            }.map { $0.lowercased() }
        }
        status = text(input.status, "status", 50, status)
        if input.tags.isPresent {
            var seen: [String] = []
            for (index, tag) in (input.tags.value ?? []).enumerated() {
                if let tag = v.text(tag, "tags[\(index)]", length: 1...30), !seen.contains(tag) { seen.append(tag) }
            }
            v.check(seen.count <= 50, "tags", "must hold at most 50 tags", code: "too_many")
            tags = seen
        }
        remark = text(input.remark, "remark", 1000, remark)
        source = text(input.source, "source", 100, source)
        followUpStatus = choice(input.followUpStatus, "follow_up_status", Set(settings.followUpStatuses), followUpStatus)
        funnelStage = choice(input.funnelStage, "funnel_stage", Set(settings.funnelStages), funnelStage)
        if case .null = input.customFields { custom = [:] }
    }

    /// Several values, one primary: the primary goes first (the first one when none is marked).
    static func contacts(
        _ items: [ProfileInput.ContactInput], _ key: String, _ v: inout Validation, valid: (String) -> Bool
    ) -> [String] {
        var values: [String] = []
        var primary: String?
        for (index, item) in items.enumerated() {
            let value = item.value.trimmingCharacters(in: .whitespaces)
            guard valid(value) else {
                v.add("\(key)[\(index)].value", "is not a valid \(key == "phones" ? "phone number" : "email address")", code: "invalid_format")
                continue
            }
            if item.primary == true {
                if primary != nil { v.add("\(key)[\(index)].primary", "only one may be primary", code: "duplicate_primary") }
                primary = value
            }
            if !values.contains(value) { values.append(value) }
        }
        v.check(values.count <= 10, key, "must hold at most 10", code: "too_many")
        if let primary, let index = values.firstIndex(of: primary) { values.insert(values.remove(at: index), at: 0) }
        return values
    }

    static func isDay(_ value: String) -> Bool {
        let parts = value.split(separator: "-")
        guard value.count == 10, parts.count == 3, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1...12).contains(month), day >= 1 else { return false }
        var components = DateComponents()
        (components.year, components.month, components.day) = (year, month, day)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let date = calendar.date(from: components) else { return false }
        return calendar.component(.day, from: date) == day && calendar.component(.month, from: date) == month
    }
}
