from django.urls import path

from . import views

app_name = "inspections"

urlpatterns = [
    path("planning/", views.schedule, name="schedule"),
    path("a-signer/", views.awaiting_signature, name="awaiting_signature"),
    path("decomptes/", views.settlement_list, name="settlement_list"),
    path("nouvelle-entree/", views.move_in_new, name="move_in_new"),
    path("baux/<int:pk>/entree/", views.move_in, name="move_in"),
    path("baux/<int:pk>/contrat/", views.lease_contract, name="lease_contract"),
    path("baux/<int:pk>/sortie/", views.move_out, name="move_out"),
    path("conges/<int:pk>/accuse/", views.notice_letter, name="notice_letter"),
    path("<int:pk>/", views.inspection_detail, name="inspection_detail"),
    path("<int:pk>/signature/", views.inspection_sign, name="inspection_sign"),
    path("<int:pk>/pdf/", views.inspection_pdf, name="inspection_pdf"),
    path("<int:pk>/comparaison/", views.comparison, name="comparison"),
    path("pieces/<int:pk>/", views.room_edit, name="room_edit"),
    path("pieces/<int:pk>/photos/", views.photo_upload, name="photo_upload"),
    path("photos/<int:pk>/", views.photo, name="photo"),
    path("decomptes/<int:pk>/", views.settlement_detail, name="settlement_detail"),
    path("decomptes/<int:pk>/lettre/", views.settlement_letter, name="settlement_letter"),
]
