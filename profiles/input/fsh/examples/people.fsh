// The people of the examples (all fictitious; NHS numbers from the 999 test
// range, with valid check digits).

RuleSet: UkPatient(nhs)
* meta.profile[0] = Canonical($UKCorePatient)
* identifier[0].system = $nhs-number
* identifier[0].value = "{nhs}"

RuleSet: CarerPatient(nhs)
* meta.profile[+] = Canonical($UKCorePatient)
* identifier[nhsNumber].system = $nhs-number
* identifier[nhsNumber].value = "{nhs}"

Instance: mary-jones
InstanceOf: Carer
Title: "Mary Jones, a carer"
Description: "An older carer who cares for her husband; White British, English speaking, no interpreter needed."
* insert CarerPatient(9991234004)
* extension[ethnicCategory].valueCodeableConcept = https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland#A "White - British"
* extension[patientInterpreterRequired].valueBoolean = false
* communication[0].language = urn:ietf:bcp:47#en-GB "English (United Kingdom)"
* communication[0].preferred = true
* name[0].family = "Jones"
* name[0].given[0] = "Mary"
* gender = #female
* birthDate = "1958-03-14"
* generalPractitioner[0].identifier.system = $ods
* generalPractitioner[0].identifier.value = "A81001"

Instance: arthur-jones
InstanceOf: Patient
Title: "Arthur Jones, cared for"
Description: "Mary's husband, who has dementia."
* insert UkPatient(9991234012)
* name[0].family = "Jones"
* name[0].given[0] = "Arthur"
* gender = #male
* birthDate = "1950-11-02"
* generalPractitioner[0].identifier.system = $ods
* generalPractitioner[0].identifier.value = "A81001"

Instance: liam-patel
InstanceOf: Carer
Title: "Liam Patel, a young carer"
Description: "A 15-year-old who cares for his mother; he did not state his ethnic category."
* insert CarerPatient(9991234020)
* extension[ethnicCategory].valueCodeableConcept = https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland#Z "Not stated"
* name[0].family = "Patel"
* name[0].given[0] = "Liam"
* gender = #male
* birthDate = "2011-06-20"

Instance: priya-patel
InstanceOf: Patient
Title: "Priya Patel, cared for"
Description: "Liam's mother, who has multiple sclerosis."
* insert UkPatient(9991234039)
* name[0].family = "Patel"
* name[0].given[0] = "Priya"
* gender = #female
* birthDate = "1979-01-30"

Instance: jean-evans
InstanceOf: Patient
Title: "Jean Evans, Mary's sister"
Description: "Mary's older sister, who lives nearby; Mary shops and cleans for her."
* insert UkPatient(9991234063)
* name[0].family = "Evans"
* name[0].given[0] = "Jean"
* gender = #female
* birthDate = "1949-07-08"
