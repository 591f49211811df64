"""The committee's parameter tables, editable by administrators (dated rows: add, never rewrite)."""

from django.contrib import admin

from .models import (
    AllocationQuota,
    AplEstimateScale,
    ContingentTarget,
    FirstQuartileThreshold,
    SolvencyThreshold,
    TypologyOccupancy,
)


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


@admin.register(ContingentTarget)
class ContingentTargetAdmin(admin.ModelAdmin):
    list_display = ("year", "agency", "contingent", "target_share", "source")
    list_filter = ("year", "contingent")


@admin.register(AllocationQuota)
class AllocationQuotaAdmin(admin.ModelAdmin):
    list_display = ("kind", "valid_from", "share", "source")


@admin.register(FirstQuartileThreshold)
class FirstQuartileThresholdAdmin(admin.ModelAdmin):
    list_display = ("year", "commune", "territory", "amount", "demo", "source")
    list_filter = ("year", "demo")
