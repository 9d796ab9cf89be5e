// Extensions of the carer profiles.

RuleSet: ExtensionStatus
* ^status = #active
* ^experimental = false

Extension: CarerPatient
Id: carer-patient
Title: "Carer's own patient record"
Description: "Links a carer relationship to the carer's own Patient record, so the carer's record and the cared-for person's record both show the relationship."
* insert ExtensionStatus
* ^context[0].type = #element
* ^context[0].expression = "RelatedPerson"
* value[x] only Reference($UKCorePatient)
* value[x] 1..1

Extension: HoursCaringPerWeek
Id: hours-caring-per-week
Title: "Hours caring per week"
Description: "How many hours a week the carer usually spends caring for this person."
* insert ExtensionStatus
* ^context[0].type = #element
* ^context[0].expression = "RelatedPerson"
* value[x] only Quantity
* value[x] 1..1
* valueQuantity.system = $ucum (exactly)
* valueQuantity.code = #h/wk (exactly)
* valueQuantity.value 1..1
* valueQuantity obeys carer-hours-1

Invariant: carer-hours-1
Description: "Hours caring per week lie between 0 and 168."
Expression: "value >= 0 and value <= 168"
Severity: #error

Extension: MainCarer
Id: main-carer
Title: "Main carer"
Description: "Whether this carer is the main carer of the person cared for."
* insert ExtensionStatus
* ^context[0].type = #element
* ^context[0].expression = "RelatedPerson"
* value[x] only boolean
* value[x] 1..1

Extension: LivesWithCaredFor
Id: lives-with-cared-for
Title: "Lives with the person cared for"
Description: "Whether the carer lives in the same household as the person cared for."
* insert ExtensionStatus
* ^context[0].type = #element
* ^context[0].expression = "RelatedPerson"
* value[x] only boolean
* value[x] 1..1

Extension: CareActivityExtension
Id: care-activity
Title: "Care activity"
Description: "Something the carer does for the person cared for; repeated for each."
* insert ExtensionStatus
* ^context[0].type = #element
* ^context[0].expression = "RelatedPerson"
* value[x] only CodeableConcept
* value[x] 1..1
* value[x] from CareActivityVS (required)

Extension: CarerTypeExtension
Id: carer-type
Title: "Carer type"
Description: "The kind of carer (young, parent, older, working, ...); repeated when several apply."
* insert ExtensionStatus
* ^context[0].type = #element
* ^context[0].expression = "RelatedPerson"
* value[x] only CodeableConcept
* value[x] 1..1
* value[x] from CarerTypeVS (required)

Extension: CarerRelationshipLink
Id: carer-relationship
Title: "Carer relationship"
Description: "The caring relationship a flag or plan is about, so it can be closed when caring ends."
* insert ExtensionStatus
* ^context[0].type = #element
* ^context[0].expression = "Flag"
* ^context[1].type = #element
* ^context[1].expression = "CarePlan"
* value[x] only Reference(CarerRelationship)
* value[x] 1..1

Extension: DeliveryMechanismExtension
Id: delivery-mechanism
Title: "Delivery mechanism"
Description: "How a planned support activity is delivered and paid for."
* insert ExtensionStatus
* ^context[0].type = #element
* ^context[0].expression = "CarePlan.activity.detail"
* value[x] only CodeableConcept
* value[x] 1..1
* value[x] from DeliveryMechanismVS (required)

Extension: PersonalBudget
Id: personal-budget
Title: "Personal budget"
Description: "The carer's personal budget (Care Act 2014 s26): the cost to the local authority of meeting the carer's needs, per year, in pounds sterling."
* insert ExtensionStatus
* ^context[0].type = #element
* ^context[0].expression = "CarePlan"
* value[x] only Money
* value[x] 1..1
* valueMoney.currency = #GBP (exactly)
* valueMoney.value 1..1

Extension: ReviewDate
Id: review-date
Title: "Review date"
Description: "When the plan (Care Act 2014 s27) or the working carer's passport is next to be reviewed."
* insert ExtensionStatus
* ^context[0].type = #element
* ^context[0].expression = "CarePlan"
* ^context[1].type = #element
* ^context[1].expression = "Composition"
* value[x] only date
* value[x] 1..1

Extension: ContingencyTriggerExtension
Id: contingency-trigger
Title: "Contingency trigger"
Description: "An event that starts the contingency plan; repeated for each."
* insert ExtensionStatus
* ^context[0].type = #element
* ^context[0].expression = "CarePlan"
* value[x] only CodeableConcept
* value[x] 1..1
* value[x] from ContingencyTriggerVS (extensible)

Extension: EmergencyContact
Id: emergency-contact
Title: "Emergency contact"
Description: "A person or service to contact when the contingency plan starts, whether they agreed to act, and how to reach them."
* insert ExtensionStatus
* ^context[0].type = #element
* ^context[0].expression = "CarePlan"
* extension contains contact 1..1 and agreedToAct 1..1 and telephone 0..1 and order 0..1
* extension[contact] ^short = "Who to contact"
* extension[contact].value[x] only Reference(RelatedPerson or Practitioner or Organization or HealthcareService)
* extension[agreedToAct] ^short = "Whether they have agreed to act as a replacement carer"
* extension[agreedToAct].value[x] only boolean
* extension[telephone] ^short = "How to reach them at once"
* extension[telephone].value[x] only ContactPoint
* extension[order] ^short = "Who to call first (1), second (2), ..."
* extension[order].value[x] only positiveInt

Extension: TimeAlone
Id: time-alone
Title: "Time the person can be left"
Description: "How long the person cared for can safely be left alone."
* insert ExtensionStatus
* ^context[0].type = #element
* ^context[0].expression = "CarePlan"
* value[x] only Duration
* value[x] 1..1

Extension: AgreedWithPerson
Id: agreed-with-person
Title: "Agreed with the person"
Description: "Whether the person cared for (or their representative) agreed the plan."
* insert ExtensionStatus
* ^context[0].type = #element
* ^context[0].expression = "CarePlan"
* value[x] only boolean
* value[x] 1..1

Extension: TestScriptFixturePadToBytes
Id: testscript-fixture-pad-to-bytes
Title: "TestScript fixture padded to a size"
Description: "For conformance testing: the carer-fhir runner (`conformance-tests run`) sends the fixture padded with trailing spaces to this many bytes, which is how a suite sends an oversized body without committing one. Runners that do not know the extension send the fixture as it is."
* insert ExtensionStatus
* ^context[0].type = #element
* ^context[0].expression = "TestScript.fixture"
* value[x] only integer
* value[x] 1..1

Extension: HoursCaringBandExtension
Id: hours-caring-band
Title: "Hours caring band"
Description: "The Census 2021 band of the hours a week the carer spends caring for this person: recorded beside the hours (fhir-core's builder derives it from them) or alone when only the band is known, so that carers can be counted by band."
* insert ExtensionStatus
* ^context[0].type = #element
* ^context[0].expression = "RelatedPerson"
* value[x] only CodeableConcept
* value[x] 1..1
* value[x] from HoursCaringBandVS (required)

Invariant: carer-idsrc-1
Description: "A GP practice or hospital is named by its ODS code, a school or college by its DfE URN or ODS code."
Expression: "extension('organization').value.identifier.exists() implies ((extension('source').value.coding.code in ('gp-practice' | 'hospital-admission' | 'hospital-discharge' | 'hospital')) implies extension('organization').value.identifier.system = 'https://fhir.nhs.uk/Id/ods-organization-code') and ((extension('source').value.coding.code = 'school-college') implies extension('organization').value.identifier.system in ('https://fhir.carer-fhir.uk/Id/dfe-urn' | 'https://fhir.nhs.uk/Id/ods-organization-code'))"
Severity: #error

Extension: CarerIdentification
Id: carer-identification
Title: "Where and by whom the carer was identified"
Description: "The setting in which the carer was identified as a carer (GP practice, hospital at admission or discharge, school or college, carers' organisation, employer, social care, or the carer themselves), when, and which organisation: by ODS code, a school's DfE Unique Reference Number, or another identifier."
* insert ExtensionStatus
* ^context[0].type = #element
* ^context[0].expression = "RelatedPerson"
* ^context[1].type = #element
* ^context[1].expression = "Observation"
* obeys carer-idsrc-1
* extension contains source 1..1 and date 0..1 and organization 0..1
* extension[source] ^short = "The setting"
* extension[source].value[x] only CodeableConcept
* extension[source].value[x] 1..1
* extension[source].value[x] from IdentificationSourceVS (required)
* extension[date] ^short = "When the carer was identified"
* extension[date].value[x] only dateTime
* extension[date].value[x] 1..1
* extension[organization] ^short = "Which organisation identified the carer (by identifier)"
* extension[organization].value[x] only Reference(Organization)
* extension[organization].value[x] 1..1
* extension[organization].valueReference.identifier 1..1
* extension[organization].valueReference.identifier.system 1..1
* extension[organization].valueReference.identifier.value 1..1

Extension: AssessmentRelationship
Id: assessment-relationship
Title: "Caring relationship assessed"
Description: "A caring relationship a carer's assessment concerns, besides the one in Task.focus: a carer who cares for several people has one CarerRelationship for each, and one assessment looks at all of them. Repeated for each."
* insert ExtensionStatus
* ^context[0].type = #element
* ^context[0].expression = "Task"
* value[x] only Reference(CarerRelationship)
* value[x] 1..1

Extension: AssessedWith
Id: assessed-with
Title: "Assessed with"
Description: "A family member assessed together with the carer: the person cared for in a joint assessment (Care Act 2014 s12(5)), or another member of the family in a whole-family assessment (a parent, a young carer, a sibling). Repeated for each."
* insert ExtensionStatus
* ^context[0].type = #element
* ^context[0].expression = "Task"
* value[x] only Reference($UKCorePatient or RelatedPerson)
* value[x] 1..1

Extension: RepresentativeAuthorityExtension
Id: representative-authority
Title: "Authority of the representative who consented"
Description: "Under what authority someone consented for the person (Mental Capacity Act 2005): a lasting or enduring power of attorney, a Court of Protection deputyship, or parental responsibility."
* insert ExtensionStatus
* ^context[0].type = #element
* ^context[0].expression = "Consent"
* value[x] only CodeableConcept
* value[x] 1..1
* value[x] from RepresentativeAuthorityVS (required)
