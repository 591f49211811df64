from . import Route

# The access-right export of a person: the roles that manage leases, on their agencies' people.
ROUTES = {
    "tenancies:person_export_pdf": Route("person"),
    "tenancies:person_export_json": Route("person"),
}
