// The server's own operations (fhir-server/src/workflow/) and the code
// systems the server writes with (audit, client roles, the Task that
// caring ending raises). Each OperationDefinition is what the
// CapabilityStatement's rest.operation.definition points at.

Instance: end-caring
InstanceOf: OperationDefinition
Usage: #definition
Title: "End caring"
Description: "Ends a caring relationship (flow 5) and, in one transaction, everything that hangs on it: the relationship's period ends and it becomes inactive, both CarerFlags about it close, the carer gets a CarerStatus 'no longer a carer', the contingency plan about it is revoked, and a Task offers the carer support after caring (bereavement support when the cared-for person died). Recording the cared-for person's death on their Patient record has the same effect for every relationship in which they are cared for."
* url = "https://fhir.carer-fhir.uk/OperationDefinition/end-caring"
* version = "0.2.0"
* name = "EndCaring"
* title = "End caring"
* status = #active
* kind = #operation
* code = #end-caring
* resource = #RelatedPerson
* system = false
* type = false
* instance = true
* affectsState = true
* parameter[0].name = #reason
* parameter[=].use = #in
* parameter[=].min = 1
* parameter[=].max = "1"
* parameter[=].type = #code
* parameter[=].documentation = "Why caring ended: died, moved-into-care, caring-stopped or other."
* parameter[+].name = #date
* parameter[=].use = #in
* parameter[=].min = 0
* parameter[=].max = "1"
* parameter[=].type = #date
* parameter[=].documentation = "When caring ended; today when absent."
* parameter[+].name = #reason
* parameter[=].use = #out
* parameter[=].min = 1
* parameter[=].max = "1"
* parameter[=].type = #code
* parameter[=].documentation = "The reason recorded."
* parameter[+].name = #date
* parameter[=].use = #out
* parameter[=].min = 1
* parameter[=].max = "1"
* parameter[=].type = #date
* parameter[=].documentation = "The date recorded."
* parameter[+].name = #changed
* parameter[=].use = #out
* parameter[=].min = 0
* parameter[=].max = "*"
* parameter[=].type = #Reference
* parameter[=].documentation = "Each resource the operation wrote, as Type/id/_history/version."

Instance: stale-carers
InstanceOf: OperationDefinition
Usage: #definition
Title: "Stale carers"
Description: "The register check: every open caring relationship the caller may see whose cared-for person is recorded deceased, or whose carer's latest CarerStatus says 'no longer a carer', grouped by the organisation (ODS code) that recorded it."
* url = "https://fhir.carer-fhir.uk/OperationDefinition/stale-carers"
* version = "0.2.0"
* name = "StaleCarers"
* title = "Stale carers"
* status = #active
* kind = #operation
* code = #stale-carers
* system = true
* type = false
* instance = false
* affectsState = false
* parameter[0].name = #organisation
* parameter[=].use = #out
* parameter[=].min = 0
* parameter[=].max = "*"
* parameter[=].documentation = "One organisation whose register holds stale relationships."
* parameter[=].part[0].name = #ods
* parameter[=].part[=].use = #out
* parameter[=].part[=].min = 1
* parameter[=].part[=].max = "1"
* parameter[=].part[=].type = #Identifier
* parameter[=].part[=].documentation = "The organisation's ODS code."
* parameter[=].part[+].name = #relationship
* parameter[=].part[=].use = #out
* parameter[=].part[=].min = 1
* parameter[=].part[=].max = "*"
* parameter[=].part[=].documentation = "One stale relationship: its reference and its reason (cared-for-deceased, no-longer-a-carer)."
* parameter[=].part[=].part[0].name = #reference
* parameter[=].part[=].part[=].use = #out
* parameter[=].part[=].part[=].min = 1
* parameter[=].part[=].part[=].max = "1"
* parameter[=].part[=].part[=].type = #Reference
* parameter[=].part[=].part[=].documentation = "The CarerRelationship."
* parameter[=].part[=].part[+].name = #reason
* parameter[=].part[=].part[=].use = #out
* parameter[=].part[=].part[=].min = 1
* parameter[=].part[=].part[=].max = "1"
* parameter[=].part[=].part[=].type = #code
* parameter[=].part[=].part[=].documentation = "Why it is stale: cared-for-deceased or no-longer-a-carer."

Instance: caf
InstanceOf: OperationDefinition
Usage: #definition
Title: "CAF record"
Description: "The person's Common Assessment Framework record as a CafRecord document Bundle, assembled from what the caller may see under the person's consent: caring relationships (as cared-for person and as carer), carer statuses and flags, assessments, responses and determinations, plans and consents. What is hidden is left out without trace."
* url = "https://fhir.carer-fhir.uk/OperationDefinition/caf"
* version = "0.2.0"
* name = "CafRecord"
* title = "CAF record"
* status = #active
* kind = #operation
* code = #caf
* resource = #Patient
* system = false
* type = false
* instance = true
* affectsState = false
* parameter[0].name = #return
* parameter[=].use = #out
* parameter[=].min = 1
* parameter[=].max = "1"
* parameter[=].type = #Bundle
* parameter[=].documentation = "The CafRecord document."

CodeSystem: CaringEndedTask
Id: caring-ended-task
Title: "Task raised when caring ends"
Description: "What the Task the server raises when caring ends offers the carer."
* ^caseSensitive = true
* ^content = #complete
* #bereavement-support "Bereavement support" "Offer the carer bereavement support: the person they cared for has died."
* #after-caring-support "Support after caring" "Offer the carer support after caring: caring has ended for another reason."

CodeSystem: ClientRole
Id: client-role
Title: "Client role"
Description: "The role a registered client of this server acts in, as recorded on each AuditEvent."
* ^caseSensitive = true
* ^content = #complete
* #gp-practice "GP practice" "A GP practice's system."
* #local-authority "Local authority" "A council's adult or children's social care system."
* #carers-organisation "Carers' organisation" "A commissioned carers' service."
* #emergency-responder "Emergency responder" "A service that finds contingency plans by emergency card number."
* #admin "Administrator" "The server's own administration."

CodeSystem: AuditSubtype
Id: audit-subtype
Title: "Audit subtype"
Description: "AuditEvent subtypes this server records beyond the RESTful interactions."
* ^caseSensitive = true
* ^content = #complete
* #operation "Operation" "An operation ($name) was invoked."
