from . import Route

ROUTES = {
    "home": Route(),
    "logout": Route(method="post"),
    "password_change": Route(),
    "password_change_done": Route(),
    "tenancies:estate_list": Route(),
    "tenancies:estate_detail": Route("estate"),
    "tenancies:building_detail": Route("building"),
    "tenancies:dwelling_list": Route(),
    "tenancies:dwelling_detail": Route("dwelling"),
    "tenancies:household_list": Route(),
    "tenancies:household_detail": Route("household"),
    "tenancies:lease_list": Route(),
    "tenancies:lease_detail": Route("lease"),
    "tenancies:lease_transition": Route("lease", method="post"),
    "tenancies:search": Route(),
}
