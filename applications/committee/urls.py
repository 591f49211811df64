from django.urls import path

from . import views

app_name = "committee"

urlpatterns = [
    # Matching a vacant dwelling and the agenda.
    path("logements/<int:pk>/candidats/", views.match, name="match"),
    path("logements/<int:pk>/ordre-du-jour/", views.agenda_add, name="agenda_add"),
    # Sessions (staff).
    path("seances/", views.session_list, name="session_list"),
    path("seances/nouvelle/", views.session_create, name="session_create"),
    path("seances/<int:pk>/", views.session_detail, name="session_detail"),
    path("seances/<int:pk>/membres/", views.member_add, name="member_add"),
    path("seances/<int:pk>/presences/", views.member_presence, name="member_presence"),
    path("seances/<int:pk>/statut/", views.session_transition, name="session_transition"),
    path("seances/<int:pk>/ordre-du-jour.pdf", views.agenda_pdf, name="agenda_pdf"),
    path("seances/<int:pk>/proces-verbal.pdf", views.minutes_pdf, name="minutes_pdf"),
    path("candidatures/<int:pk>/apl/", views.candidature_apl, name="candidature_apl"),
    path("candidatures/<int:pk>/decision/", views.decision_record, name="decision_record"),
    path("candidatures/<int:pk>/courrier.pdf", views.decision_letter_pdf, name="decision_letter_pdf"),
    # Members' pages.
    path("mes-seances/", views.my_sessions, name="my_sessions"),
    path("mes-seances/<int:pk>/", views.member_session, name="member_session"),
    path("mes-seances/dossiers/<int:pk>/", views.member_case, name="member_case"),
    path("mes-seances/logements/<int:pk>/vote/", views.vote, name="vote"),
    # Offers.
    path("propositions/", views.offer_list, name="offer_list"),
    path("propositions/<int:pk>/", views.offer_detail, name="offer_detail"),
    path("propositions/<int:pk>/reponse/", views.offer_answer, name="offer_answer"),
    path("propositions/<int:pk>/reception/", views.offer_received, name="offer_received"),
    path("propositions/<int:pk>/courrier.pdf", views.offer_pdf, name="offer_pdf"),
]
