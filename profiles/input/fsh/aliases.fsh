// Code systems, value sets and profiles we use from elsewhere.
Alias: $sct = http://snomed.info/sct
Alias: $loinc = http://loinc.org
Alias: $ucum = http://unitsofmeasure.org
Alias: $v3-RoleCode = http://terminology.hl7.org/CodeSystem/v3-RoleCode
Alias: $v3-ActCode = http://terminology.hl7.org/CodeSystem/v3-ActCode
Alias: $v3-ActReason = http://terminology.hl7.org/CodeSystem/v3-ActReason
Alias: $consentscope = http://terminology.hl7.org/CodeSystem/consentscope
Alias: $obs-category = http://terminology.hl7.org/CodeSystem/observation-category
Alias: $ukcore-role = https://fhir.hl7.org.uk/CodeSystem/UKCore-AdditionalPersonRelationshipRole
Alias: $nhs-number = https://fhir.nhs.uk/Id/nhs-number
Alias: $ods = https://fhir.nhs.uk/Id/ods-organization-code
Alias: $ordinalValue = http://hl7.org/fhir/StructureDefinition/ordinalValue

Alias: $UKCoreRelatedPerson = https://fhir.hl7.org.uk/StructureDefinition/UKCore-RelatedPerson
Alias: $UKCoreObservation = https://fhir.hl7.org.uk/StructureDefinition/UKCore-Observation
Alias: $UKCoreFlag = https://fhir.hl7.org.uk/StructureDefinition/UKCore-Flag
Alias: $UKCoreQuestionnaire = https://fhir.hl7.org.uk/StructureDefinition/UKCore-Questionnaire
Alias: $UKCoreQuestionnaireResponse = https://fhir.hl7.org.uk/StructureDefinition/UKCore-QuestionnaireResponse
Alias: $UKCoreTask = https://fhir.hl7.org.uk/StructureDefinition/UKCore-Task
Alias: $UKCoreCarePlan = https://fhir.hl7.org.uk/StructureDefinition/UKCore-CarePlan
Alias: $UKCoreConsent = https://fhir.hl7.org.uk/StructureDefinition/UKCore-Consent
Alias: $UKCoreBundle = https://fhir.hl7.org.uk/StructureDefinition/UKCore-Bundle
Alias: $UKCoreComposition = https://fhir.hl7.org.uk/StructureDefinition/UKCore-Composition
Alias: $UKCorePatient = https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient
Alias: $UKCoreOrganization = https://fhir.hl7.org.uk/StructureDefinition/UKCore-Organization
Alias: $UKCorePractitioner = https://fhir.hl7.org.uk/StructureDefinition/UKCore-Practitioner
