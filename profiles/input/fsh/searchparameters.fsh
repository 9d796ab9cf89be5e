// Searches the carer flows need that base R4 lacks.

RuleSet: SearchParameterCommon(id, code, name)
* url = "https://fhir.carer-fhir.uk/SearchParameter/{id}"
* name = "{name}"
* status = #active
* experimental = false
* code = #{code}

Instance: relatedperson-carer-patient
InstanceOf: SearchParameter
Usage: #definition
Title: "RelatedPerson: the carer's own Patient record"
Description: "Caring relationships by the carer's own Patient record: every person a carer cares for."
* insert SearchParameterCommon(relatedperson-carer-patient, carer-patient, CarerPatient)
* description = "Caring relationships by the carer's own Patient record"
* base = #RelatedPerson
* type = #reference
* target = #Patient
* expression = "RelatedPerson.extension('https://fhir.carer-fhir.uk/StructureDefinition/carer-patient').value"
* xpath = "f:RelatedPerson/f:extension[@url='https://fhir.carer-fhir.uk/StructureDefinition/carer-patient']/f:valueReference"
* xpathUsage = #normal

Instance: relatedperson-carer-type
InstanceOf: SearchParameter
Usage: #definition
Title: "RelatedPerson: carer type"
Description: "Caring relationships by carer type (young carer, parent carer, ...)."
* insert SearchParameterCommon(relatedperson-carer-type, carer-type, CarerType)
* description = "Caring relationships by carer type"
* base = #RelatedPerson
* type = #token
* expression = "RelatedPerson.extension('https://fhir.carer-fhir.uk/StructureDefinition/carer-type').value"
* xpath = "f:RelatedPerson/f:extension[@url='https://fhir.carer-fhir.uk/StructureDefinition/carer-type']/f:valueCodeableConcept"
* xpathUsage = #normal

Instance: carer-relationship
InstanceOf: SearchParameter
Usage: #definition
Title: "Flag and CarePlan: the caring relationship"
Description: "Flags and plans by the caring relationship they are about, so that they can be closed when caring ends."
* insert SearchParameterCommon(carer-relationship, carer-relationship, CarerRelationship)
* description = "Flags and plans by the caring relationship they are about"
* base[0] = #Flag
* base[1] = #CarePlan
* type = #reference
* target = #RelatedPerson
* expression = "Flag.extension('https://fhir.carer-fhir.uk/StructureDefinition/carer-relationship').value | CarePlan.extension('https://fhir.carer-fhir.uk/StructureDefinition/carer-relationship').value"
* xpath = "f:Flag/f:extension[@url='https://fhir.carer-fhir.uk/StructureDefinition/carer-relationship']/f:valueReference | f:CarePlan/f:extension[@url='https://fhir.carer-fhir.uk/StructureDefinition/carer-relationship']/f:valueReference"
* xpathUsage = #normal

Instance: careplan-emergency-contact
InstanceOf: SearchParameter
Usage: #definition
Title: "CarePlan: emergency contact"
Description: "Contingency plans by an emergency contact they name: who to call when the carer cannot care."
* insert SearchParameterCommon(careplan-emergency-contact, emergency-contact, EmergencyContact)
* description = "Contingency plans by an emergency contact they name"
* base = #CarePlan
* type = #reference
* target[0] = #RelatedPerson
* target[1] = #Patient
* target[2] = #Practitioner
* target[3] = #PractitionerRole
* target[4] = #Organization
* expression = "CarePlan.extension('https://fhir.carer-fhir.uk/StructureDefinition/emergency-contact').extension('contact').value"
* xpath = "f:CarePlan/f:extension[@url='https://fhir.carer-fhir.uk/StructureDefinition/emergency-contact']/f:extension[@url='contact']/f:valueReference"
* xpathUsage = #normal
