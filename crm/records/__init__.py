"""Views shared by the four record blueprints (leads, deals, contacts, organizations)."""
