from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from simple_history.admin import SimpleHistoryAdmin

from . import models


@admin.register(models.User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (*BaseUserAdmin.fieldsets, ("Territoire", {"fields": ("agencies",)}))
    filter_horizontal = ("groups", "user_permissions", "agencies")


@admin.register(models.Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ("code", "name")


@admin.register(models.Commune)
class CommuneAdmin(admin.ModelAdmin):
    list_display = ("insee_code", "name", "postcode", "ceiling_zone", "apl_zone", "tense_zone")


@admin.register(models.Estate)
class EstateAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "agency", "commune", "qpv")
    list_filter = ("agency", "qpv")


@admin.register(models.ChargeType)
class ChargeTypeAdmin(admin.ModelAdmin):
    list_display = ("code", "label", "position")


@admin.register(models.Dwelling)
class DwellingAdmin(SimpleHistoryAdmin):
    list_display = ("reference", "typology", "financing", "rent", "status")
    list_filter = ("status", "typology", "financing")
    search_fields = ("reference",)
    raw_id_fields = ("building",)
