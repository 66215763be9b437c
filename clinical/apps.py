from __future__ import annotations

from django.apps import AppConfig


class ClinicalConfig(AppConfig):
    name = "clinical"
    verbose_name = "Clinical"

    def ready(self) -> None:
        # The diary's FHIR export includes medications and check-ins; the diary may not import
        # this app (it sits below the diary), so this app hands it the section.
        from clinical.fhir import clinical_fhir_entries
        from diary.fhir import register_fhir_section

        register_fhir_section(clinical_fhir_entries)
