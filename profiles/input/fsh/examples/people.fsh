// The people of the examples (all fictitious; NHS numbers from the 999 test
// range, with valid check digits).

RuleSet: UkPatient(nhs)
* meta.profile[0] = Canonical($UKCorePatient)
* identifier[0].system = $nhs-number
* identifier[0].value = "{nhs}"

Instance: mary-jones
InstanceOf: Patient
Title: "Mary Jones, a carer"
Description: "An older carer who cares for her husband."
* insert UkPatient(9991234004)
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
InstanceOf: Patient
Title: "Liam Patel, a young carer"
Description: "A 15-year-old who cares for his mother."
* insert UkPatient(9991234020)
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
