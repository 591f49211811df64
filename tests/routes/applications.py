from datetime import date

from django.core.files.base import ContentFile

from . import Route

RESPONSABLE = "responsable_agence"

ROUTES = {
    "applications:application_list": Route(),
    "applications:application_create": Route(),
    "applications:application_detail": Route("application"),
    "applications:application_edit": Route("application"),
    "applications:application_cancel": Route("application", method="post", status=400),
    "applications:application_renew": Route("application", method="post"),
    "applications:certificate_pdf": Route("application"),
    "applications:document_upload": Route("application", method="post"),
    "applications:document_download": Route("application_document"),
    "applications:renewal_notice_pdf": Route("renewal_notice"),
    "applications:duplicate_list": Route(),
    "applications:duplicate_resolve": Route("application+twin", method="post"),
    "applications:grid_list": Route(),
    "applications:grid_detail": Route("cotation_grid"),
    "applications:grid_create": Route("agency", role=RESPONSABLE),
}

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def make_objects(territory):
    """One application (and its twin, a document, a renewal notice) and a grid per territory."""
    from applications.models import Application, ApplicationDocument, CotationGrid, DocumentType, RenewalNotice
    from tests.applications.factories import make_application, make_grid, person

    agency = territory.agency
    marker = f"ROUTE-{agency.code}"
    application = Application.objects.filter(national_number=marker).first()
    if application is None:
        twin_person = person(last=f"JUMEAU{agency.code}", first="Alix")
        application = make_application(agency, people=[twin_person], national_number=marker, on=date(2026, 3, 2))
        make_application(agency, people=[twin_person], national_number=f"{marker}-2", on=date(2026, 3, 2))
        document = ApplicationDocument(
            application=application,
            document_type=DocumentType.objects.get(code="identite"),
            content_kind="pdf",
            size=len(PDF),
            original_name="cni.pdf",
            uploaded_by=_any_user(),
        )
        document.file.save(f"applications/test/{marker}.pdf", ContentFile(PDF), save=False)
        document.save()
        notice = RenewalNotice(
            application=application,
            expires_on=application.expires_on,
            latest_send_on=date(2027, 2, 2),
            produced_on=date(2027, 1, 15),
        )
        notice.file.save(f"applications/test/{marker}-avis.pdf", ContentFile(PDF), save=False)
        notice.save()
    if not CotationGrid.objects.filter(agency=agency).exists():
        make_grid(agency)
    twin = Application.objects.get(national_number=f"{marker}-2")
    return {
        "application": application,
        "application+twin": (application.pk, twin.pk),
        "application_document": application.documents.first(),
        "renewal_notice": application.renewal_notices.first(),
        "cotation_grid": CotationGrid.objects.filter(agency=agency).first(),
    }


def _any_user():
    from tenancies.models import User

    return User.objects.get_or_create(username="route-uploader")[0]
