"""THE conversion service: deal -> lead (as Pipedrive does it) and lead -> contact + organization
(+ deal) (as Odoo and Salesforce do it), and what the Convert dialog suggests.

Both conversions are idempotent by construction: each first *claims* its source rows with a
conditional UPDATE and goes on only with the rows that UPDATE changed.
"""
from crm.services.conversion.deal_to_lead import (
    CHUNK, INLINE_LIMIT, LEAD_SOURCE, BulkConversion, DealConversion, conversion_message,
    convert_deal_to_lead, convert_deals_job, convert_deals_to_leads, deal_ids_for, may_convert_deals,
)
from crm.services.conversion.lead_to_customer import (
    CUSTOMER_CHOICES, LeadConversion, LeadPlan, convert_lead,
)
from crm.services.conversion.shared import ATTACHED, AlreadyConverted
from crm.services.conversion.suggestions import Similar, customer_suggestions, similar_records

__all__ = [
    "ATTACHED", "CHUNK", "CUSTOMER_CHOICES", "INLINE_LIMIT", "LEAD_SOURCE", "AlreadyConverted",
    "BulkConversion", "DealConversion", "LeadConversion", "LeadPlan", "Similar", "conversion_message",
    "convert_deal_to_lead", "convert_deals_job", "convert_deals_to_leads", "convert_lead",
    "customer_suggestions", "deal_ids_for", "may_convert_deals", "similar_records",
]
