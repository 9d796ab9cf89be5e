// The carer's own record and the equality and diversity data councils count
// carers by (age, gender, ethnicity, disability, health, sexual orientation,
// language). No element is required anywhere: each can be left out, and
// each refusal has a code of its own.

Profile: Carer
Parent: $UKCorePatient
Id: Carer
Title: "Carer"
Description: "The carer's own Patient record, with what councils and the NHS count carers by: age (birthDate), gender, ethnic category (UK Core's extension; 'Z' records that the carer was asked and did not state it), preferred language and whether an interpreter is needed. Disability, long-term conditions, general health and sexual orientation are separate Observations (CarerDisability, CarerSexualOrientation), as the NHS data standards record them. Nothing is required: a carer may decline any of it."
* insert ProfileStatus
// UK Core's differential slices Patient.extension without saying how; the
// snapshot carer-fhir generates for it carries no slicing there, and SUSHI
// needs one to place the slices' values, so it is stated (as every
// extension slicing is: by url, open).
* extension ^slicing.discriminator.type = #value
* extension ^slicing.discriminator.path = "url"
* extension ^slicing.rules = #open
* identifier MS
* identifier[nhsNumber] MS
* name MS
* gender MS
* gender ^short = "Administrative gender ('unknown' when not stated)"
* birthDate MS
* birthDate ^short = "Date of birth, from which age bands (young carer, older carer) are counted"
* extension[ethnicCategory] MS
* extension[ethnicCategory] ^short = "Ethnic category (NHS Data Dictionary); Z = not stated"
* extension[patientInterpreterRequired] MS
// The same snapshot leaves these slices' urls unfixed (UK Core's
// differential restates their children; see UkCoreObservationSliceUrls).
* extension[patientInterpreterRequired].url = "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired" (exactly)
* extension[birthPlace].url = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace" (exactly)
* extension[cadavericDonor].url = "http://hl7.org/fhir/StructureDefinition/patient-cadavericDonor" (exactly)
* extension[patientInterpreterRequired] ^short = "Whether an interpreter is needed"
* communication MS
* communication.language MS
* communication.preferred MS
* generalPractitioner MS

Profile: CarerSexualOrientation
Parent: $UKCoreObservation
Id: CarerSexualOrientation
Title: "Carer's sexual orientation"
Description: "A carer's sexual orientation as they stated it, coded by the SNOMED CT concepts of the NHS Sexual Orientation Monitoring information standard (DCB2094), which include 'does not know or is not sure', 'not stated: asked and declined' and 'not known (not recorded)'. Asked of people aged 16 or over."
* insert ProfileStatus
* insert UkCoreObservationSliceUrls
* status MS
* category 1..* MS
* category ^slicing.discriminator.type = #pattern
* category ^slicing.discriminator.path = "$this"
* category ^slicing.rules = #open
* category contains socialHistory 1..1
* category[socialHistory] = $obs-category#social-history
* code MS
* code = $loinc#76690-7
* subject 1..1 MS
* subject only Reference($UKCorePatient)
* subject ^short = "The carer"
* effective[x] MS
* effective[x] only dateTime
* value[x] 1..1 MS
* value[x] only CodeableConcept
* value[x] from SexualOrientationVS (required)
* dataAbsentReason 0..0
* component 0..0

Profile: CarerDisability
Parent: $UKCoreObservation
Id: CarerDisability
Title: "Carer's disability, long-term conditions and health"
Description: "Whether the carer has a long-term physical or mental health condition or illness that limits their day-to-day activities (the Census 2021 and Equality Act 2010 question), with the kinds of disability in the NHS Data Dictionary's DISABILITY CODE and the carer's own rating of their general health. Each answer has a 'not stated' code for a carer who declines."
* insert ProfileStatus
* insert UkCoreObservationSliceUrls
* status MS
* category 1..* MS
* category ^slicing.discriminator.type = #pattern
* category ^slicing.discriminator.path = "$this"
* category ^slicing.rules = #open
* category contains socialHistory 1..1
* category[socialHistory] = $obs-category#social-history
* code = CafObservation#disability
* subject 1..1 MS
* subject only Reference($UKCorePatient)
* subject ^short = "The carer"
* effective[x] MS
* effective[x] only dateTime
* value[x] 1..1 MS
* value[x] only CodeableConcept
* value[x] from ActivityLimitationVS (required)
* value[x] ^short = "Day-to-day activities limited a lot, a little, not at all, no condition, or not stated"
* dataAbsentReason 0..0
* component MS
* component ^slicing.discriminator.type = #pattern
* component ^slicing.discriminator.path = "code"
* component ^slicing.rules = #closed
* component contains disabilityType 0..* MS and generalHealth 0..1 MS
* component[disabilityType].code = CafObservation#disability-type
* component[disabilityType].value[x] only CodeableConcept
* component[disabilityType].value[x] 1..1
* component[disabilityType].value[x] from NhsDisabilityVS (required)
* component[generalHealth].code = CafObservation#general-health
* component[generalHealth].value[x] only CodeableConcept
* component[generalHealth].value[x] 1..1
* component[generalHealth].value[x] from GeneralHealthVS (required)

ValueSet: SexualOrientationVS
Id: sexual-orientation
Title: "Sexual orientation (NHS Sexual Orientation Monitoring)"
Description: "The SNOMED CT concepts the NHS Sexual Orientation Monitoring standard (DCB2094) records, one for each of its national codes: 1 heterosexual or straight, 2 gay or lesbian, 3 bisexual, 4 other sexual orientation not listed, U does not know or is not sure, Z not stated (asked and declined), 9 not known (not recorded). Only the codes listed are members; terms as the guide read them; ConceptMap SexualOrientationToNhsDataDictionary gives the national codes."
* insert OurValueSet
* $sct#20430005 "Heterosexual"
* $sct#89217008 "Homosexual"
* $sct#42035005 "Bisexual"
* $sct#765288000 "Sexually attracted to neither male nor female sex"
* $sct#1064711000000108 "Person asked and does not know or is not sure"
* $sct#699042003 "Declined to state sexual orientation"
* $sct#440583007 "Sexual orientation unknown"

CodeSystem: NhsSexualOrientationCode
Id: nhs-sexual-orientation-code
Title: "PERSON STATED SEXUAL ORIENTATION CODE (NHS Data Dictionary)"
Description: "The national codes of the NHS Data Dictionary's PERSON STATED SEXUAL ORIENTATION CODE, which returns count by. The Data Dictionary publishes no FHIR code system, so they are carried in one of ours."
* ^caseSensitive = true
* ^content = #complete
* #1 "Heterosexual or Straight"
* #2 "Gay or Lesbian"
* #3 "Bisexual"
* #4 "Other sexual orientation not listed"
* #U "Person asked and does not know or is not sure"
* #Z "Not stated (person asked but declined to provide a response)"
* #9 "Not known (not recorded)"

Instance: SexualOrientationToNhsDataDictionary
InstanceOf: ConceptMap
Usage: #definition
Title: "Sexual orientation: SNOMED CT to the NHS Data Dictionary national codes"
Description: "From the SNOMED CT concepts a CarerSexualOrientation records to the national codes returns use."
* url = "https://fhir.carer-fhir.uk/ConceptMap/sexual-orientation-to-nhs-dd"
* name = "SexualOrientationToNhsDataDictionary"
* status = #active
* sourceCanonical = Canonical(SexualOrientationVS)
* targetCanonical = "https://fhir.carer-fhir.uk/CodeSystem/nhs-sexual-orientation-code"
* group[0].source = "http://snomed.info/sct"
* group[0].target = "https://fhir.carer-fhir.uk/CodeSystem/nhs-sexual-orientation-code"
* insert MapTo(0, #20430005, 1, #equivalent)
* insert MapTo(1, #89217008, 2, #equivalent)
* insert MapTo(2, #42035005, 3, #equivalent)
* insert MapTo(3, #765288000, 4, #narrower)
* insert MapTo(4, #1064711000000108, U, #equivalent)
* insert MapTo(5, #699042003, Z, #equivalent)
* insert MapTo(6, #440583007, 9, #equivalent)

CodeSystem: ActivityLimitation
Id: activity-limitation
Title: "Day-to-day activities limited by a long-term condition"
Description: "Whether a long-term physical or mental health condition or illness (lasting, or expected to last, 12 months or more) reduces the person's ability to carry out day-to-day activities, as the 2021 Census asks; 'a lot' and 'a little' are disability in the sense of the Equality Act 2010."
* ^caseSensitive = true
* ^content = #complete
* #limited-a-lot "Yes, limited a lot"
* #limited-a-little "Yes, limited a little"
* #not-limited "Has a long-term condition, not limited"
* #no-condition "No long-term condition"
* #not-stated "Not stated" "The person was asked and declined to say."

ValueSet: ActivityLimitationVS
Id: activity-limitation
Title: "Day-to-day activities limited by a long-term condition"
Description: "All activity limitation answers."
* insert OurValueSet
* include codes from system ActivityLimitation

CodeSystem: NhsDisabilityCode
Id: nhs-disability-code
Title: "DISABILITY CODE (NHS Data Dictionary)"
Description: "The national codes of the NHS Data Dictionary's DISABILITY CODE, the kinds of disability NHS data sets record. The Data Dictionary publishes no FHIR code system, so they are carried in one of ours; wording is ours."
* ^caseSensitive = true
* ^content = #complete
* #01 "Behaviour and emotional"
* #02 "Hearing"
* #03 "Manual dexterity"
* #04 "Memory or ability to concentrate, learn or understand (learning disability)"
* #05 "Mobility and gross motor"
* #06 "Perception of physical danger"
* #07 "Personal, self-care and continence"
* #08 "Progressive conditions and physical health (such as HIV, cancer, multiple sclerosis, fits)"
* #09 "Sight"
* #10 "Speech"
* #XX "Other"
* #NN "No disability"
* #ZZ "Not stated (person asked but declined to provide a response)"

ValueSet: NhsDisabilityVS
Id: nhs-disability-code
Title: "Disability (NHS Data Dictionary)"
Description: "All DISABILITY CODE values."
* insert OurValueSet
* include codes from system NhsDisabilityCode

CodeSystem: GeneralHealth
Id: general-health
Title: "General health"
Description: "A person's own rating of their health in general, as the 2021 Census asks it."
* ^caseSensitive = true
* ^content = #complete
* #very-good "Very good"
* #good "Good"
* #fair "Fair"
* #bad "Bad"
* #very-bad "Very bad"
* #not-stated "Not stated" "The person was asked and declined to say."

ValueSet: GeneralHealthVS
Id: general-health
Title: "General health"
Description: "All general health ratings."
* insert OurValueSet
* include codes from system GeneralHealth
