// Maps to the values of the adult social care Client Level Data (CLD)
// return. CLD publishes its values as text, not as a FHIR code system, so
// each list is given here as a code system whose codes are CLD's own
// spellings: Release 1 says "Carer", Release 2 "Unpaid carer".

CodeSystem: CldR1CarerSupport
Id: cld-r1-carer-support
Title: "CLD Release 1 carer support values"
Description: "CLD Release 1 Service_Type values for carer support, spelt as in the return."
* ^caseSensitive = true
* ^content = #complete
* #"Carer Support: Direct to Carer" "Carer Support: Direct to Carer"
* #"Carer Support: Support involving the person cared-for" "Carer Support: Support involving the person cared-for"
* #"Carer Support: Information & Advice" "Carer Support: Information & Advice"

CodeSystem: CldR2CarerSupport
Id: cld-r2-carer-support
Title: "CLD Release 2 unpaid carer support values"
Description: "CLD Release 2 Service_Type values for unpaid carer support, spelt as in the return."
* ^caseSensitive = true
* ^content = #complete
* #"Unpaid Carer Support: Direct to Unpaid Carer" "Unpaid Carer Support: Direct to Unpaid Carer"
* #"Unpaid Carer Support: Support involving the person cared-for" "Unpaid Carer Support: Support involving the person cared-for"
* #"Unpaid Carer Support: Information & Advice" "Unpaid Carer Support: Information & Advice"

CodeSystem: CldDeliveryMechanism
Id: cld-delivery-mechanism
Title: "CLD delivery mechanism values"
Description: "CLD Delivery_Mechanism values, spelt as in the return (the same in both releases)."
* ^caseSensitive = true
* ^content = #complete
* #"Direct Payment" "Direct Payment"
* #"CASSR Managed Personal Budget" "CASSR Managed Personal Budget"
* #"CASSR Commissioned Support" "CASSR Commissioned Support"
* #"No Direct Support" "No Direct Support"

Instance: SupportTypeToCldR1
InstanceOf: ConceptMap
Usage: #definition
Title: "Carer support type to CLD Release 1"
Description: "Our support types to CLD Release 1 carer support Service_Type values."
* url = "https://fhir.carer-fhir.uk/ConceptMap/support-type-to-cld-r1"
* name = "SupportTypeToCldR1"
* status = #active
* sourceCanonical = Canonical(SupportTypeVS)
* targetCanonical = "https://fhir.carer-fhir.uk/CodeSystem/cld-r1-carer-support"
* insert SupportTypeToCld("https://fhir.carer-fhir.uk/CodeSystem/cld-r1-carer-support", "Carer Support: Direct to Carer", "Carer Support: Support involving the person cared-for", "Carer Support: Information & Advice")

Instance: SupportTypeToCldR2
InstanceOf: ConceptMap
Usage: #definition
Title: "Carer support type to CLD Release 2"
Description: "Our support types to CLD Release 2 unpaid carer support Service_Type values."
* url = "https://fhir.carer-fhir.uk/ConceptMap/support-type-to-cld-r2"
* name = "SupportTypeToCldR2"
* status = #active
* sourceCanonical = Canonical(SupportTypeVS)
* targetCanonical = "https://fhir.carer-fhir.uk/CodeSystem/cld-r2-carer-support"
* insert SupportTypeToCld("https://fhir.carer-fhir.uk/CodeSystem/cld-r2-carer-support", "Unpaid Carer Support: Direct to Unpaid Carer", "Unpaid Carer Support: Support involving the person cared-for", "Unpaid Carer Support: Information & Advice")

RuleSet: SupportTypeToCld(system, direct, involving, info)
* group[0].source = "https://fhir.carer-fhir.uk/CodeSystem/support-type"
* group[0].target = {system}
* insert MapTo(0, #break, {involving}, #equivalent)
* insert MapTo(1, #sitting-service, {involving}, #equivalent)
* insert MapTo(2, #emergency-respite, {involving}, #equivalent)
* insert MapTo(3, #information-advice, {info}, #equivalent)
* insert MapTo(4, #emotional-support, {direct}, #wider)
* insert MapTo(5, #training, {direct}, #wider)
* insert MapTo(6, #equipment, {direct}, #wider)
* insert MapTo(7, #bereavement-support, {direct}, #wider)
* group[0].element[8].code = #health-check
* group[0].element[8].target[0].equivalence = #unmatched
* group[0].element[8].target[0].comment = "A GP practice carer health check is NHS care, not local-authority carer support: CLD has no value for it."
* insert MapTo(9, #employment-support, {direct}, #wider)
* insert MapTo(10, #advocacy, {direct}, #wider)
* insert MapTo(11, #grant-payment, {direct}, #wider)
* insert MapTo(12, #hospital-discharge-support, {direct}, #wider)
* insert MapTo(13, #peer-support-group, {direct}, #wider)
* group[0].element[14].code = #digital-resources
* group[0].element[14].target[0].code = #{info}
* group[0].element[14].target[0].equivalence = #wider
* group[0].element[14].target[0].comment = "Counted as information and advice only when the council provides or commissions the resource; a carer's own use of a public website is not a CLD service."

RuleSet: MapTo(i, code, target, equivalence)
* group[0].element[{i}].code = {code}
* group[0].element[{i}].target[0].code = #{target}
* group[0].element[{i}].target[0].equivalence = {equivalence}

Instance: DeliveryMechanismToCld
InstanceOf: ConceptMap
Usage: #definition
Title: "Delivery mechanism to CLD"
Description: "Our delivery mechanisms to CLD Delivery_Mechanism values (Releases 1 and 2)."
* url = "https://fhir.carer-fhir.uk/ConceptMap/delivery-mechanism-to-cld"
* name = "DeliveryMechanismToCld"
* status = #active
* sourceCanonical = Canonical(DeliveryMechanismVS)
* targetCanonical = "https://fhir.carer-fhir.uk/CodeSystem/cld-delivery-mechanism"
* group[0].source = "https://fhir.carer-fhir.uk/CodeSystem/delivery-mechanism"
* group[0].target = "https://fhir.carer-fhir.uk/CodeSystem/cld-delivery-mechanism"
* insert MapTo(0, #direct-payment, "Direct Payment", #equivalent)
* insert MapTo(1, #part-direct-payment, "Direct Payment", #wider)
* insert MapTo(2, #managed-personal-budget, "CASSR Managed Personal Budget", #equivalent)
* insert MapTo(3, #commissioned-support, "CASSR Commissioned Support", #equivalent)
* insert MapTo(4, #information-advice, "No Direct Support", #equivalent)

Instance: HoursCaringBandLegacy
InstanceOf: ConceptMap
Usage: #definition
Title: "Hours caring band: 0.1.0 bands to the Census 2021 bands"
Description: "How the deprecated 0.1.0 band '0 to 19 hours' relates to the Census 2021 bands: it covers two of them, so a record in it cannot be counted as under 10 hours without the hours themselves."
* url = "https://fhir.carer-fhir.uk/ConceptMap/hours-caring-band-legacy"
* name = "HoursCaringBandLegacy"
* status = #active
* sourceCanonical = "https://fhir.carer-fhir.uk/CodeSystem/hours-caring-band"
* targetCanonical = Canonical(HoursCaringBandVS)
* group[0].source = "https://fhir.carer-fhir.uk/CodeSystem/hours-caring-band"
* group[0].target = "https://fhir.carer-fhir.uk/CodeSystem/hours-caring-band"
* group[0].element[0].code = #0-19
* group[0].element[0].target[0].code = #9-or-less
* group[0].element[0].target[0].equivalence = #narrower
* group[0].element[0].target[0].comment = "Only where the hours recorded were 9 or fewer."
* group[0].element[0].target[1].code = #10-19
* group[0].element[0].target[1].equivalence = #narrower
* group[0].element[0].target[1].comment = "Only where the hours recorded were 10 to 19."
