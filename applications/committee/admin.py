"""The committee's parameter tables, editable by administrators (dated rows: add, never rewrite)."""

from django.contrib import admin

from .models import AplEstimateScale, SolvencyThreshold, TypologyOccupancy


@admin.register(TypologyOccupancy)
class TypologyOccupancyAdmin(admin.ModelAdmin):
    list_display = ("typology", "min_persons", "max_persons")


@admin.register(SolvencyThreshold)
class SolvencyThresholdAdmin(admin.ModelAdmin):
    list_display = ("valid_from", "max_effort_rate", "min_daily_rest")


@admin.register(AplEstimateScale)
class AplEstimateScaleAdmin(admin.ModelAdmin):
    list_display = ("valid_from", "apl_zone", "household_size", "rent_ceiling", "charges_flat", "participation_rate")
    list_filter = ("apl_zone", "valid_from")
