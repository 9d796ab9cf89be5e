// Ngozi Okafor is a staff nurse at Example Hospitals NHS Trust (ODS RX1),
// and cares for her mother-in-law. Her ward manager agreed adjustments with
// her; the trust signed her passport. The signature is made with the
// example key in profiles/examples/passport/ (see its README).

Instance: ngozi-okafor
InstanceOf: Carer
Title: "Ngozi Okafor, a working carer"
Description: "A staff nurse who cares for her mother-in-law."
* insert CarerPatient(9991234055)
* name[0].family = "Okafor"
* name[0].given[0] = "Ngozi"
* gender = #female
* birthDate = "1972-08-30"
* extension[ethnicCategory].valueCodeableConcept = https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland#N "Black or Black British - African"

Instance: example-hospitals
InstanceOf: Organization
Title: "Example Hospitals NHS Trust"
Description: "Ngozi's employer."
* meta.profile[0] = Canonical($UKCoreOrganization)
* identifier[0].system = $ods
* identifier[0].value = "RX1"
* name = "Example Hospitals NHS Trust"

Instance: ward-manager-dev-sharma
InstanceOf: Practitioner
Title: "Dev Sharma, ward manager"
Description: "Ngozi's line manager, who agreed her adjustments."
* meta.profile[0] = Canonical($UKCorePractitioner)
* identifier[0].system = "https://fhir.nhs.uk/Id/sds-user-id"
* identifier[0].value = "555123456789"
* name[0].family = "Sharma"
* name[0].given[0] = "Dev"
* name[0].prefix[0] = "Mr"

Instance: ngozi-staff-record
InstanceOf: Practitioner
Title: "Ngozi Okafor's staff record"
Description: "Ngozi as the trust's member of staff."
* meta.profile[0] = Canonical($UKCorePractitioner)
* identifier[0].system = "https://fhir.nhs.uk/Id/sds-user-id"
* identifier[0].value = "555987654321"
* name[0].family = "Okafor"
* name[0].given[0] = "Ngozi"

Instance: ngozi-working-carer-flag
InstanceOf: WorkingCarerFlag
Title: "Ngozi's staff record: working carer"
Description: "The trust's flag on Ngozi's staff record that she is a carer with a passport."
* meta.profile[+] = Canonical($UKCoreFlag)
* status = #active
* code = EmployerFlag#working-carer "Working carer"
* subject = Reference(ngozi-staff-record)
* author = Reference(example-hospitals)
* period.start = "2026-03-02"

RuleSet: Adjustment(i, code, display, text)
* section[{i}].title = "{display}"
* section[{i}].code = WorkplaceAdjustment#{code} "{display}"
* section[{i}].text.status = #additional
* section[{i}].text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>{text}</p></div>"

Instance: ngozi-passport-composition
InstanceOf: WorkingCarersPassportComposition
Title: "Ngozi's working carer's passport: contents"
Description: "The adjustments Ngozi and her ward manager agreed."
* meta.profile[+] = Canonical($UKCoreComposition)
* extension[reviewDate].valueDate = "2027-03-01"
* status = #final
* type = WorkingCarerDocument#working-carers-passport "Working carer's passport"
* subject = Reference(ngozi-okafor)
* date = "2026-03-02T09:00:00Z"
* author[0] = Reference(example-hospitals)
* title = "Working carer's passport: Ngozi Okafor"
* attester[0].mode = #personal
* attester[0].time = "2026-03-02T09:00:00Z"
* attester[0].party = Reference(ngozi-okafor)
* attester[1].mode = #professional
* attester[1].time = "2026-03-02T09:00:00Z"
* attester[1].party = Reference(ward-manager-dev-sharma)
* section[0].title = "About my caring"
* section[0].code = WorkingCarerDocument#caring "About my caring"
* section[0].text.status = #additional
* section[0].text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>I care for my mother-in-law, who lives alone nearby; I visit every morning before work.</p></div>"
* insert Adjustment(1, flexible-hours, Flexible working hours, Early shifts start at 08:30 rather than 07:30\, so that I can visit my mother-in-law first.)
* insert Adjustment(2, phone-access, Phone access at work, I keep my phone with me on the ward and may take calls about my mother-in-law.)
* insert Adjustment(3, carers-leave, Carer's leave, One week of carer's leave a year\, taken in days or half days\, on top of annual leave.)

Instance: ngozi-passport
InstanceOf: WorkingCarersPassport
Title: "Ngozi's working carer's passport"
Description: "Signed by Example Hospitals NHS Trust; Ngozi holds it and can show it to a new manager or employer."
* meta.profile[+] = Canonical($UKCoreBundle)
* identifier.system = "https://fhir.carer-fhir.uk/Id/working-carers-passport"
* identifier.value = "RX1-WCP-2026-0012"
* type = #document
* timestamp = "2026-03-02T09:00:00Z"
* insert Entry(0, Composition, ngozi-passport-composition, ngozi-passport-composition)
* insert Entry(1, Patient, ngozi-okafor, ngozi-okafor)
* insert Entry(2, Organization, example-hospitals, example-hospitals)
* insert Entry(3, Practitioner, ward-manager-dev-sharma, ward-manager-dev-sharma)
// Made by `carer-fhir passport sign` with example-employer-es384.pem over
// the document as scripts/profiles writes it (narratives included); a
// change to any entry needs a new signature (profiles/examples/passport/README.md).
* signature.type[0] = urn:iso-astm:E1762-95:2013#1.2.840.10065.1.12.1.1 "Author's Signature"
* signature.when = "2026-12-01T23:49:32Z"
* signature.who.identifier.system = $ods
* signature.who.identifier.value = "RX1"
* signature.targetFormat = #application/fhir+json
* signature.sigFormat = #application/jose
* signature.data = "ZXlKaGJHY2lPaUpGVXpNNE5DSXNJbXRwWkNJNklrWllNVXBVVEd4c1lYVmZOM016YW5CWFExUTJTR1ZyYUcxeGNqRkpVV3QzUVdocVgxSlpWWGg1YW1NaUxDSnphV2RVSWpvaU1qQXlOaTB4TWkwd01WUXlNem8wT1Rvek1sb2lmUS4uMlY4b0hFRFpvREhyZkpxdGRqdFBJcktKb2E2UWFXSi1ENks1a1hJSlQtTXYzZDlnSFBiSXlBaGtwdC1UWkk0UEJ1SVlGU3JLZjNIeHlmczlFRHdVeXQxa3Vfc1pZY19VbURzVEZaYXBJa05SS0w1OXc0bTY2OHhvazdyQmFhVHg="
