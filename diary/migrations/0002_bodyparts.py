from django.db import migrations

# The original API's 44 body parts (id, name, label, view); a contract with existing clients.
# A frozen copy of diary.bodymap.parts.BODY_PARTS (a migration must not change when the app
# does); diary/tests/test_bodymap_parts.py checks that the two agree.
BODY_PARTS = (
    (1, "head", "Top of the head", "front"),
    (2, "face", "Face", "front"),
    (3, "neck", "Neck", "front"),
    (4, "shoulder-left", "Left shoulder", "front"),
    (5, "shoulder-right", "Right shoulder", "front"),
    (6, "arm-left", "Left upper arm", "front"),
    (7, "forearm-left", "Left forearm", "front"),
    (8, "arm-right", "Right upper arm", "front"),
    (9, "forearm-right", "Right forearm", "front"),
    (10, "chest-left", "Left chest", "front"),
    (11, "chest-right", "Right chest", "front"),
    (12, "belly-left", "Left side of the belly", "front"),
    (13, "ribs-left", "Left ribs", "front"),
    (14, "belly-right", "Right side of the belly", "front"),
    (15, "belly", "Belly", "front"),
    (16, "ribs-right", "Right ribs", "front"),
    (17, "thigh-left", "Left thigh", "front"),
    (18, "innerthigh-left", "Left inner thigh", "front"),
    (19, "feet-left", "Left foot", "front"),
    (20, "calf-left", "Left shin", "front"),
    (21, "knee-left", "Left knee", "front"),
    (22, "thigh-right", "Right thigh", "front"),
    (23, "genitalia", "Genitals", "front"),
    (24, "innerthigh-right", "Right inner thigh", "front"),
    (25, "right-feet", "Right foot", "front"),
    (26, "calf-right", "Right shin", "front"),
    (27, "knee-right", "Right knee", "front"),
    (28, "elbow-right", "Right elbow", "front"),
    (29, "hand-right", "Right hand", "front"),
    (30, "elbow-left", "Left elbow", "front"),
    (31, "hand-left", "Left hand", "front"),
    (32, "armback-left", "Back of the left upper arm", "back"),
    (33, "leg-left", "Back of the left leg", "back"),
    (34, "buttock", "Buttocks", "back"),
    (35, "loin", "Lower back", "back"),
    (36, "column", "Spine", "back"),
    (37, "head-back", "Back of the head", "back"),
    (38, "nape", "Back of the neck", "back"),
    (39, "armback-right", "Back of the right upper arm", "back"),
    (40, "leg-right", "Back of the right leg", "back"),
    (41, "back-right", "Right upper back", "back"),
    (42, "clavicle-right", "Right collarbone", "front"),
    (43, "clavicle-left", "Left collarbone", "front"),
    (44, "back-left", "Left upper back", "back"),
)


def create_body_parts(apps, schema_editor):
    BodyPart = apps.get_model("diary", "BodyPart")
    for pk, name, label, view in BODY_PARTS:
        BodyPart.objects.update_or_create(
            pk=pk, defaults={"name": name, "label": label, "view": view}
        )


class Migration(migrations.Migration):
    dependencies = [("diary", "0001_initial")]

    operations = [migrations.RunPython(create_body_parts, migrations.RunPython.noop)]
